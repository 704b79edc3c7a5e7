// Unit tests of `dtrust unpublish` (client/unpublish_command.cc) with a fake
// dtrustd.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_dtrustd_client.h"
#include "tests/testing/test_certs.h"

namespace dtrust::testing {
namespace {

class UnpublishCommandTest : public FakeDtrustdTest {
 protected:
  UnpublishCommandTest() {
    v1::UnpublishResponse answer;
    answer.set_sha256(std::string(32, '\xab'));
    answer.add_servers("mx1.org-b.example");
    answer.add_servers_removed("mx1.org-b.example");
    fake_->unpublish.answer = answer;
  }
};

TEST_F(UnpublishCommandTest, ByFileFromOneServer) {
  const TestCert cert = MakeTestCert();
  const CliRun run = Run({"unpublish", "--server", "MX1.org-b.example",
                          WriteTempFile("unpublish.pem", cert.pem)});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  ASSERT_EQ(fake_->unpublish.requests.size(), 1u);
  EXPECT_EQ(fake_->unpublish.requests[0].server(), "mx1.org-b.example");
  EXPECT_EQ(fake_->unpublish.requests[0].certificate_der(), cert.der);
  std::string colon_hex = "AB";
  for (int i = 1; i < 32; ++i) colon_hex += ":AB";
  EXPECT_EQ(run.out, "unpublished " + colon_hex +
                         " from mx1.org-b.example\n"
                         "removed server mx1.org-b.example (no certificates "
                         "left)\n");
}

TEST_F(UnpublishCommandTest, ByDigestAsJson) {
  const CliRun run =
      Run({"unpublish", "--sha256", std::string(64, 'A'), "--json"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  ASSERT_EQ(fake_->unpublish.requests.size(), 1u);
  EXPECT_EQ(fake_->unpublish.requests[0].sha256(), std::string(32, '\xaa'));
  EXPECT_TRUE(fake_->unpublish.requests[0].server().empty());
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "ab";
  EXPECT_EQ(run.out, "{\"sha256\":\"" + hex +
                         "\",\"servers\":[\"mx1.org-b.example\"],"
                         "\"servers_removed\":[\"mx1.org-b.example\"]}\n");
}

TEST_F(UnpublishCommandTest, NotPublishedIsBadInput) {
  fake_->unpublish.answer = absl::NotFoundError("it is not published");
  const CliRun run = Run({"unpublish", "--sha256", std::string(64, 'a')});
  EXPECT_EQ(run.code, cli::ExitCode::kBadInput);
  EXPECT_EQ(run.err, "dtrust: it is not published\n");
  EXPECT_EQ(run.out, "");
}

TEST_F(UnpublishCommandTest, RejectsBadInputBeforeAnyCall) {
  ExpectRejectedBeforeAnyCall({"unpublish"},
                              "either a certificate file or --sha256");
  ExpectRejectedBeforeAnyCall({"unpublish", "a.pem", "b.pem"},
                              "unpublish takes one certificate file");
  ExpectRejectedBeforeAnyCall({"unpublish", "--sha256", std::string(63, 'a')},
                              "--sha256");
  ExpectRejectedBeforeAnyCall(
      {"unpublish", "--server", "bad..name", "--sha256", std::string(64, 'a')},
      "--server");
}

}  // namespace
}  // namespace dtrust::testing
