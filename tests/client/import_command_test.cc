// Unit tests of `dtrust import` (client/import_command.cc) with a fake
// dtrustd.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_dtrustd_client.h"
#include "tests/testing/test_certs.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class ImportCommandTest : public FakeDtrustdTest {
 protected:
  const TestCert cert_ = MakeTestCert();
  const std::string file_ = WriteTempFile("import.pem", cert_.pem);
  const std::string key_ = WriteTempFile("import.key", cert_.key_pem);
};

TEST_F(ImportCommandTest, ChecksTheFileWithoutCallingDtrustd) {
  const CliRun run = Run({"import", file_, "--key", key_});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  EXPECT_EQ(fake_->calls(), 0u);
  EXPECT_THAT(run.out, StartsWith(file_ + ": certificate (PEM), with its "
                                          "private key\n"));
  EXPECT_THAT(run.out, HasSubstr("\n  validity:      valid\n"));

  const CliRun json = Run({"import", file_, "--json"});
  EXPECT_EQ(json.code, cli::ExitCode::kOk) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"private_key\":null"));
}

TEST_F(ImportCommandTest, EnableSmtpPublishesWithProofOfPossession) {
  v1::PublishChallenge challenge;
  challenge.set_challenge("nonce");
  fake_->challenge.answer = challenge;
  v1::PublishResponse answer;
  answer.mutable_server()->set_name("mx1.org-b.example");
  fake_->publish.answer = answer;

  const CliRun run =
      Run({"import", file_, "--key", key_, "--enable", "smtp", "--server",
           "mx1.org-b.example", "--domain", "org-b.example", "--pin", "key"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  ASSERT_EQ(fake_->publish.requests.size(), 1u);
  const v1::PublishRequest& request = fake_->publish.requests[0];
  EXPECT_EQ(request.server(), "mx1.org-b.example");
  EXPECT_EQ(request.certificate_der(), cert_.der);
  EXPECT_EQ(request.pin_kind(), v1::PIN_KIND_PUBLIC_KEY);
  EXPECT_EQ(request.challenge(), "nonce");
  EXPECT_FALSE(request.possession_signature().empty());
  EXPECT_THAT(run.out,
              StartsWith("published " + file_ + " for mx1.org-b.example\n"));
}

TEST_F(ImportCommandTest, RejectsBadInputBeforeAnyCall) {
  ExpectRejectedBeforeAnyCall({"import"}, "import needs exactly one file");
  ExpectRejectedBeforeAnyCall({"import", file_, "--enable", "imap"},
                              "--enable imap: only smtp can be enabled");
  ExpectRejectedBeforeAnyCall({"import", file_, "--server", "mx1"},
                              "--server is for --enable smtp");
  ExpectRejectedBeforeAnyCall({"import", file_, "--enable", "smtp"},
                              "--enable smtp needs --server FQDN");
  const TestCert other = MakeTestCert();
  ExpectRejectedBeforeAnyCall(
      {"import", file_, "--key", WriteTempFile("other.key", other.key_pem),
       "--enable", "smtp", "--server", "mx1.org-b.example"},
      "does not belong to the certificate");
}

}  // namespace
}  // namespace dtrust::testing
