// Unit tests of `dtrust verify` (client/verify_command.cc) with a fake
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

class VerifyCommandTest : public FakeDtrustdTest {
 protected:
  const TestCert cert_ = MakeTestCert();
  const std::string file_ = WriteTempFile("verify.pem", cert_.pem);
};

TEST_F(VerifyCommandTest, SendsTheCertificateAndNormalizedExpectations) {
  v1::VerifyResponse answer;
  answer.set_verdict(v1::TRUSTED);
  answer.set_server("mx1.org-b.example");
  answer.add_domains("org-b.example");
  fake_->verify.answer = answer;

  const CliRun run = Run({"verify", file_, "--server", "MX1.Org-B.example.",
                          "--domain", "org-b.example"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  ASSERT_EQ(fake_->verify.requests.size(), 1u);
  const v1::VerifyRequest& request = fake_->verify.requests[0];
  EXPECT_EQ(request.certificate_der(), cert_.der);
  EXPECT_EQ(request.expected_server(), "mx1.org-b.example");
  EXPECT_EQ(request.expected_domain(), "org-b.example");
  EXPECT_THAT(run.out,
              StartsWith("TRUSTED (mx1.org-b.example, org-b.example)\n"));
}

TEST_F(VerifyCommandTest, ByFingerprintWithJsonAndAnotherVerdict) {
  v1::VerifyResponse answer;
  answer.set_verdict(v1::NOT_PUBLISHED);
  answer.set_reason("no such certificate");
  fake_->verify.answer = answer;

  const CliRun run =
      Run({"--json", "verify", "--sha256", "AB" + std::string(62, 'C'),
           "--spki-sha256", std::string(64, 'd')});
  EXPECT_EQ(run.code, cli::ExitCode::kNotTrusted) << run.err;
  ASSERT_EQ(fake_->verify.requests.size(), 1u);
  const v1::VerifyRequest& request = fake_->verify.requests[0];
  EXPECT_EQ(request.sha256().size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(request.sha256()[0]), 0xab);
  EXPECT_EQ(request.spki_sha256(), std::string(32, '\xdd'));
  EXPECT_TRUE(request.certificate_der().empty());
  EXPECT_THAT(run.out, StartsWith("{\"verdict\":\"NOT_PUBLISHED\","));
  EXPECT_THAT(run.out, HasSubstr("\"reason\":\"no such certificate\""));
}

TEST_F(VerifyCommandTest, RejectsBadInputBeforeAnyCall) {
  ExpectRejectedBeforeAnyCall({"verify"},
                              "either a certificate file or --sha256");
  ExpectRejectedBeforeAnyCall(
      {"verify", file_, "--sha256", std::string(64, 'a')},
      "either a certificate file or --sha256");
  ExpectRejectedBeforeAnyCall({"verify", file_, file_},
                              "verify takes one certificate file");
  ExpectRejectedBeforeAnyCall({"verify", "--sha256", "abc"}, "--sha256");
  ExpectRejectedBeforeAnyCall({"verify", "--server", "-bad-", file_},
                              "--server");
  ExpectRejectedBeforeAnyCall(
      {"verify", WriteTempFile("junk.pem", "not a certificate")}, "junk.pem");
}

}  // namespace
}  // namespace dtrust::testing
