// Certificate rollover, key pins and forgeries, through the real dtrust and
// dtrustd against a separate slapd.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/cli_test_util.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

namespace dtrust::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;

class PinningTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
    ASSERT_TRUE(slapd.ok()) << slapd.status();
    slapd_ = slapd->release();
    absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
        DtrustdProcess::StartWithLdap(*slapd_);
    ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
    dtrustd_ = dtrustd->release();
  }

  static void TearDownTestSuite() {
    delete dtrustd_;  // Before the directory it uses.
    dtrustd_ = nullptr;
    delete slapd_;
    slapd_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(dtrustd_, nullptr); }

  static CommandResult Run(const std::vector<std::string>& args) {
    return DtrustCli(dtrustd_->endpoint()).Run(args);
  }

  // Publishes `cert` for `server` (serving org-b.example); extra args go
  // before the file.
  static void Publish(const TestCert& cert, const std::string& server,
                      std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"publish", "--server", server, "--domain",
                                     "org-b.example"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(WriteTempFile("cert.pem", cert.pem));
    const CommandResult r = Run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // `dtrust verify` of `cert`; returns the result.
  static CommandResult Verify(const TestCert& cert) {
    return Run({"verify", WriteTempFile("peer.der", cert.der)});
  }

  static SlapdFixture* slapd_;
  static DtrustdProcess* dtrustd_;
};

SlapdFixture* PinningTest::slapd_ = nullptr;
DtrustdProcess* PinningTest::dtrustd_ = nullptr;

TEST_F(PinningTest, FingerprintsMatchOpenssl) {
  const TestCert cert = MakeTestCert({.common_name = "mx0.org-b.example"});
  const std::string path = WriteTempFile("mx0.pem", cert.pem);
  Publish(cert, "mx0.org-b.example");
  const CommandResult r = Run({"verify", path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(DetailValue(r.out, "sha256"), OpensslSha256(path));
  EXPECT_EQ(ColonHexToLower(DetailValue(r.out, "spki-sha256")),
            OpensslSpkiSha256(path));
}

TEST_F(PinningTest, RolloverKeepsBothTrustedUntilOneIsUnpublished) {
  const TestCert old_cert = MakeTestCert({.common_name = "mx2.org-b.example"});
  const TestCert new_cert = MakeTestCert({.common_name = "mx2.org-b.example"});
  Publish(old_cert, "mx2.org-b.example");
  // The server is known: the next certificate needs no --domain.
  CommandResult r = Run({"publish", "--server", "mx2.org-b.example",
                         WriteTempFile("new.pem", new_cert.pem)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Verify(old_cert);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = Verify(new_cert);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  r = Run({"list", "--server", "mx2.org-b.example", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  google::protobuf::Value json = ParseJson(r.out);
  ASSERT_EQ(Field(json, "servers").list_value().values_size(), 1);
  EXPECT_EQ(Field(Field(json, "servers").list_value().values(0), "pins")
                .list_value()
                .values_size(),
            2);

  r = Run({"unpublish", "--server", "mx2.org-b.example",
           WriteTempFile("old.pem", old_cert.pem)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "unpublished " +
                       DetailValue(Verify(old_cert).out, "sha256") +
                       " from mx2.org-b.example\n");
  r = Verify(old_cert);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");
  r = Verify(new_cert);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // Unpublishing the last one removes the server entry.
  const std::string new_path = WriteTempFile("new.pem", new_cert.pem);
  r = Run({"unpublish", new_path, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json = ParseJson(r.out);
  EXPECT_EQ(Field(json, "sha256").string_value(),
            ColonHexToLower(OpensslSha256(new_path)));
  EXPECT_THAT(StringList(Field(json, "servers")),
              ElementsAre("mx2.org-b.example"));
  EXPECT_THAT(StringList(Field(json, "servers_removed")),
              ElementsAre("mx2.org-b.example"));
  r = Run({"list", "--server", "mx2.org-b.example"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "no published server matches\n");
}

TEST_F(PinningTest, KeyPinTrustsRenewalsWithTheSameKey) {
  const TestCert original = MakeTestCert({.common_name = "mx3.org-b.example"});
  const TestCert renewed =
      MakeTestCert({.common_name = "mx3.org-b.example",
                    .not_before = absl::Now() - absl::Minutes(5),
                    .key_pem = original.key_pem});
  ASSERT_NE(original.der, renewed.der);
  Publish(original, "mx3.org-b.example", {"--pin", "key"});

  CommandResult r = Verify(renewed);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(FirstLine(r.out), "TRUSTED (mx3.org-b.example, org-b.example)");
  EXPECT_EQ(DetailValue(r.out, "pin"), "public-key");
  // What was presented, not what was published.
  const std::string renewed_path = WriteTempFile("renewed.pem", renewed.pem);
  EXPECT_EQ(DetailValue(r.out, "sha256"), OpensslSha256(renewed_path));

  // By key fingerprint alone.
  r = Run(
      {"verify", "--spki-sha256", OpensslSpkiSha256(renewed_path), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Field(ParseJson(r.out), "pin_kind").string_value(), "public-key");
}

TEST_F(PinningTest, CertificatePinDoesNotTrustRenewalsWithTheSameKey) {
  const TestCert original = MakeTestCert({.common_name = "mx4.org-b.example"});
  const TestCert renewed = MakeTestCert(
      {.common_name = "mx4.org-b.example", .key_pem = original.key_pem});
  Publish(original, "mx4.org-b.example", {"--pin", "cert"});

  CommandResult r = Verify(renewed);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");
  r = Run({"verify", "--spki-sha256",
           OpensslSpkiSha256(WriteTempFile("o.pem", original.pem))});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");

  // Switching the pin to the key trusts the renewal.
  r = Run({"publish", "--server", "mx4.org-b.example", "--domain",
           "org-b.example", "--pin", "key",
           WriteTempFile("o.pem", original.pem)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(FirstLine(r.out), StartsWith("published "));
  EXPECT_EQ(DetailValue(r.out, "pin"), "public-key");
  r = Verify(renewed);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(PinningTest, ForgeryWithSameIssuerAndSerialIsNotPublished) {
  const TestCert genuine =
      MakeTestCert({.common_name = "mx5.org-b.example", .serial = 4242});
  const TestCert forged =
      MakeTestCert({.common_name = "mx5.org-b.example",
                    .issuer_common_name = "mx5.org-b.example",
                    .serial = 4242});
  Publish(genuine, "mx5.org-b.example");
  const std::string genuine_path = WriteTempFile("genuine.pem", genuine.pem);
  const std::string forged_path = WriteTempFile("forged.pem", forged.pem);
  // Same issuer and serial, as openssl sees them.
  for (const char* field : {"-issuer", "-serial"}) {
    EXPECT_EQ(
        RunCommand({"openssl", "x509", "-in", genuine_path, "-noout", field})
            .out,
        RunCommand({"openssl", "x509", "-in", forged_path, "-noout", field})
            .out);
  }

  CommandResult r = Run({"verify", forged_path});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");
  r = Run({"verify", "--sha256", OpensslSha256(forged_path)});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");
  r = Run({"verify", genuine_path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Nor can the forgery unpublish the genuine certificate.
  r = Run({"unpublish", forged_path});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  r = Run({"verify", genuine_path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(PinningTest, WrongServer) {
  const TestCert cert = MakeTestCert({.common_name = "mx6.org-b.example"});
  Publish(cert, "mx6.org-b.example");
  const CommandResult r = Run({"verify", "--server", "mx7.org-b.example",
                               WriteTempFile("mx6.pem", cert.pem)});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(FirstLine(r.out), StartsWith("WRONG_SERVER"));
}

}  // namespace
}  // namespace dtrust::testing
