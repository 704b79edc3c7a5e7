// Unit tests of `dtrust publish` (client/publish_command.cc, publish.cc,
// possession.cc) with a fake dtrustd.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_dtrustd_client.h"
#include "tests/testing/test_certs.h"

namespace dtrust::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class PublishCommandTest : public FakeDtrustdTest {
 protected:
  PublishCommandTest() {
    v1::PublishResponse answer;
    answer.set_outcome(v1::PublishResponse::PUBLISHED);
    answer.mutable_server()->set_name("mx1.org-b.example");
    answer.add_domains_added("org-b.example");
    fake_->publish.answer = answer;
  }

  const TestCert cert_ = MakeTestCert();
  const std::string file_ = WriteTempFile("publish.pem", cert_.pem);
};

TEST_F(PublishCommandTest, SendsServerDomainsPinAndWindow) {
  const CliRun run = Run(
      {"publish", "--server", "MX1.org-b.example", "--domain", "org-b.example",
       "--domain", "Org-C.example.", "--pin", "key", "--not-before",
       "2026-01-01", "--not-after", "2026-12-01T00:00:00Z", file_});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  ASSERT_EQ(fake_->publish.requests.size(), 1u);
  const v1::PublishRequest& request = fake_->publish.requests[0];
  EXPECT_EQ(request.server(), "mx1.org-b.example");
  EXPECT_THAT(request.domains(), ElementsAre("org-b.example", "org-c.example"));
  EXPECT_EQ(request.pin_kind(), v1::PIN_KIND_PUBLIC_KEY);
  EXPECT_EQ(request.pin_not_before().seconds(), 1767225600);
  EXPECT_EQ(request.pin_not_after().seconds(), 1796083200);
  EXPECT_EQ(request.certificate_der(), cert_.der);
  EXPECT_TRUE(request.possession_signature().empty());
  EXPECT_TRUE(fake_->challenge.requests.empty());
  EXPECT_THAT(run.out, StartsWith(absl::StrCat("published ", file_,
                                               " for mx1.org-b.example\n")));
  EXPECT_THAT(run.out, HasSubstr("domains added: org-b.example"));
}

TEST_F(PublishCommandTest, WithTheKeySignsDtrustdsChallenge) {
  v1::PublishChallenge challenge;
  challenge.set_challenge("challenge-from-dtrustd");
  fake_->challenge.answer = challenge;
  const std::string key = WriteTempFile("publish.key", cert_.key_pem);

  const CliRun run = Run({"publish", "--server", "mx1.org-b.example", "--key",
                          key, file_, "--json"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  ASSERT_EQ(fake_->challenge.requests.size(), 1u);
  EXPECT_EQ(fake_->challenge.requests[0].server(), "mx1.org-b.example");
  EXPECT_EQ(fake_->challenge.requests[0].sha256().size(), 32u);
  ASSERT_EQ(fake_->publish.requests.size(), 1u);
  EXPECT_EQ(fake_->publish.requests[0].challenge(), "challenge-from-dtrustd");
  EXPECT_FALSE(fake_->publish.requests[0].possession_signature().empty());
  EXPECT_THAT(run.out, StartsWith("{\"outcome\":\"PUBLISHED\","));
}

TEST_F(PublishCommandTest, RejectsBadInputBeforeAnyCall) {
  ExpectRejectedBeforeAnyCall({"publish", "--domain", "org-b.example", file_},
                              "publish needs --server");
  ExpectRejectedBeforeAnyCall({"publish", "--server", "mx1.org-b.example"},
                              "exactly one certificate file");
  ExpectRejectedBeforeAnyCall(
      {"publish", "--server", "mx1.org-b.example", "--pin", "spki", file_},
      "--pin spki: must be cert or key (see 'dtrust help publish')");
  ExpectRejectedBeforeAnyCall({"publish", "--server", "mx1.org-b.example",
                               "--not-after", "tomorrow", file_},
                              "--not-after tomorrow: not an RFC 3339 time");
  ExpectRejectedBeforeAnyCall({"publish", "--server", "mx1.org-b.example",
                               "--password-file", file_, file_},
                              "--password-file is for --key");
  ExpectRejectedBeforeAnyCall(
      {"publish", "--server", "mx1.org-b.example", "--key", file_, file_},
      "no private key");
  ExpectRejectedBeforeAnyCall(
      {"publish", "--server", "mx1.org-b.example", "--server", "mx2", file_},
      "--server given more than once");
}

}  // namespace
}  // namespace dtrust::testing
