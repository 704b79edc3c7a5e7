// Unit tests of `dtrust list` (client/list_command.cc) with a fake dtrustd.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_dtrustd_client.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::ServerEntry Server(const std::string& name, const std::string& domain) {
  v1::ServerEntry server;
  server.set_name(name);
  server.add_domains(domain);
  v1::Pin* pin = server.add_pins();
  pin->set_sha256(std::string(32, '\x01'));
  pin->set_kind(v1::PIN_KIND_CERTIFICATE);
  return server;
}

using ListCommandTest = FakeDtrustdTest;

TEST_F(ListCommandTest, FiltersAndPrintsEachServer) {
  fake_->list.answer = std::vector<v1::ServerEntry>{
      Server("mx1.org-b.example", "org-b.example"),
      Server("mx2.org-b.example", "org-b.example")};
  const CliRun run = Run({"list", "--domain", "Org-B.example"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  ASSERT_EQ(fake_->list.requests.size(), 1u);
  EXPECT_EQ(fake_->list.requests[0].domain(), "org-b.example");
  EXPECT_TRUE(fake_->list.requests[0].server().empty());
  EXPECT_THAT(run.out, StartsWith("mx1.org-b.example\n"
                                  "  domains:       org-b.example\n"
                                  "  pins:          1\n"
                                  "  - sha256:        01:01:"));
  EXPECT_THAT(run.out, HasSubstr("    pin:           certificate\n"));
  EXPECT_THAT(run.out, HasSubstr("\n\nmx2.org-b.example\n"));
}

TEST_F(ListCommandTest, SaysWhenNothingIsPublishedOrMatches) {
  EXPECT_EQ(Run({"list"}).out, "no servers published\n");
  EXPECT_EQ(Run({"list", "--server", "mx9.org-b.example"}).out,
            "no published server matches\n");
  EXPECT_EQ(fake_->list.requests.back().server(), "mx9.org-b.example");
}

TEST_F(ListCommandTest, Json) {
  fake_->list.answer = std::vector<v1::ServerEntry>{
      Server("mx1.org-b.example", "org-b.example")};
  const CliRun run = Run({"list", "--json"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  EXPECT_THAT(run.out, StartsWith("{\"servers\":[{\"name\":\"mx1.org-b."
                                  "example\",\"domains\":[\"org-b.example\"]"));
  fake_->list.answer = std::vector<v1::ServerEntry>{};
  EXPECT_EQ(Run({"list", "--json", "--server", "mx9.org-b.example"}).out,
            "{\"servers\":[]}\n");
}

TEST_F(ListCommandTest, RejectsBadInputBeforeAnyCall) {
  ExpectRejectedBeforeAnyCall({"list", "extra"},
                              "list takes no arguments, got extra");
  ExpectRejectedBeforeAnyCall({"list", "--server", "a b"}, "--server");
  ExpectRejectedBeforeAnyCall({"list", "--domain", ""}, "--domain");
  ExpectRejectedBeforeAnyCall({"list", "--timeout", "soon"}, "--timeout soon");
}

}  // namespace
}  // namespace dtrust::testing
