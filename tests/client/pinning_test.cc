// Certificate rollover, key pins, pin windows, `dtrust expiring` and
// forgeries, through the real dtrust and dtrustd against a separate slapd.
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

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
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
    ASSERT_EQ(r.exit_code(), 0) << r.err;
  }

  // `dtrust verify` of `cert`; returns the result.
  static CommandResult Verify(const TestCert& cert) {
    return Run({"verify", WriteTempFile("peer.der", cert.der)});
  }

  static SlapdFixture* slapd_;
  static DtrustdProcess* dtrustd_;
};

// RFC 3339 and date forms of `time`, as --not-before/--not-after take them.
std::string Rfc3339(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}
std::string Date(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d", time, absl::UTCTimeZone());
}

SlapdFixture* PinningTest::slapd_ = nullptr;
DtrustdProcess* PinningTest::dtrustd_ = nullptr;

TEST_F(PinningTest, FingerprintsMatchOpenssl) {
  const TestCert cert = MakeTestCert({.common_name = "mx0.org-b.example"});
  const std::string path = WriteTempFile("mx0.pem", cert.pem);
  Publish(cert, "mx0.org-b.example");
  const CommandResult r = Run({"verify", path});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
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
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  r = Verify(old_cert);
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  r = Verify(new_cert);
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;

  r = Run({"list", "--server", "mx2.org-b.example", "--json"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  google::protobuf::Value json = ParseJson(r.out);
  ASSERT_EQ(Field(json, "servers").list_value().values_size(), 1);
  EXPECT_EQ(Field(Field(json, "servers").list_value().values(0), "pins")
                .list_value()
                .values_size(),
            2);

  r = Run({"unpublish", "--server", "mx2.org-b.example",
           WriteTempFile("old.pem", old_cert.pem)});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.out, "unpublished " +
                       DetailValue(Verify(old_cert).out, "sha256") +
                       " from mx2.org-b.example\n");
  r = Verify(old_cert);
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");
  r = Verify(new_cert);
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;

  // Unpublishing the last one removes the server entry.
  const std::string new_path = WriteTempFile("new.pem", new_cert.pem);
  r = Run({"unpublish", new_path, "--json"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  json = ParseJson(r.out);
  EXPECT_EQ(Field(json, "sha256").string_value(),
            ColonHexToLower(OpensslSha256(new_path)));
  EXPECT_THAT(StringList(Field(json, "servers")),
              ElementsAre("mx2.org-b.example"));
  EXPECT_THAT(StringList(Field(json, "servers_removed")),
              ElementsAre("mx2.org-b.example"));
  r = Run({"list", "--server", "mx2.org-b.example"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
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
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_EQ(FirstLine(r.out), "TRUSTED (mx3.org-b.example, org-b.example)");
  EXPECT_EQ(DetailValue(r.out, "pin"), "public-key");
  // What was presented, not what was published.
  const std::string renewed_path = WriteTempFile("renewed.pem", renewed.pem);
  EXPECT_EQ(DetailValue(r.out, "sha256"), OpensslSha256(renewed_path));

  // By key fingerprint alone.
  r = Run(
      {"verify", "--spki-sha256", OpensslSpkiSha256(renewed_path), "--json"});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_EQ(Field(ParseJson(r.out), "pin_kind").string_value(), "public-key");
}

TEST_F(PinningTest, CertificatePinDoesNotTrustRenewalsWithTheSameKey) {
  const TestCert original = MakeTestCert({.common_name = "mx4.org-b.example"});
  const TestCert renewed = MakeTestCert(
      {.common_name = "mx4.org-b.example", .key_pem = original.key_pem});
  Publish(original, "mx4.org-b.example", {"--pin", "cert"});

  CommandResult r = Verify(renewed);
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");
  r = Run({"verify", "--spki-sha256",
           OpensslSpkiSha256(WriteTempFile("o.pem", original.pem))});
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");

  // Switching the pin to the key trusts the renewal.
  r = Run({"publish", "--server", "mx4.org-b.example", "--domain",
           "org-b.example", "--pin", "key",
           WriteTempFile("o.pem", original.pem)});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_THAT(FirstLine(r.out), StartsWith("published "));
  EXPECT_EQ(DetailValue(r.out, "pin"), "public-key");
  r = Verify(renewed);
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
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
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");
  r = Run({"verify", "--sha256", OpensslSha256(forged_path)});
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");
  r = Run({"verify", genuine_path});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  // Nor can the forgery unpublish the genuine certificate.
  r = Run({"unpublish", forged_path});
  EXPECT_EQ(r.exit_code(), 2) << r.out;
  r = Run({"verify", genuine_path});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
}

TEST_F(PinningTest, WrongServer) {
  const TestCert cert = MakeTestCert({.common_name = "mx6.org-b.example"});
  Publish(cert, "mx6.org-b.example");
  const CommandResult r = Run({"verify", "--server", "mx7.org-b.example",
                               WriteTempFile("mx6.pem", cert.pem)});
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_THAT(FirstLine(r.out), StartsWith("WRONG_SERVER"));
}

// Windows relative to now: MakeTestCert's certificates are valid from an
// hour ago for a year.
TEST_F(PinningTest, PinWindowDecidesTrust) {
  const absl::Time now = absl::Now();
  const TestCert next = MakeTestCert({.common_name = "mx8.org-b.example"});
  const std::string path = WriteTempFile("next.pem", next.pem);
  const std::string starts = Rfc3339(now + absl::Hours(1));
  Publish(next, "mx8.org-b.example", {"--not-before", starts});

  CommandResult r = Run({"verify", path});
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_EQ(FirstLine(r.out),
            "PIN_NOT_YET_ACTIVE (mx8.org-b.example, org-b.example)");
  EXPECT_THAT(DetailValue(r.out, "reason"),
              HasSubstr("its pin is not active before " + starts));
  EXPECT_EQ(DetailValue(r.out, "pin window"), "from " + starts);
  r = Run({"verify", path, "--json"});
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  google::protobuf::Value json = ParseJson(r.out);
  EXPECT_EQ(Field(json, "verdict").string_value(), "PIN_NOT_YET_ACTIVE");
  EXPECT_EQ(Field(json, "pin_not_before").string_value(), starts);
  EXPECT_TRUE(Field(json, "pin_not_after").has_null_value());

  // Moved forward: trusted now, until a date (00:00 UTC).
  const std::string date = Date(now + absl::Hours(24 * 30));
  r = Run({"publish", "--server", "mx8.org-b.example", "--not-before",
           Rfc3339(now - absl::Minutes(10)), "--not-after", date, path});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_THAT(FirstLine(r.out),
              AllOf(StartsWith("published " + path +
                               " for mx8.org-b.example (updated: pin window "
                               "from " +
                               starts + " -> from "),
                    HasSubstr(" until " + date + "T00:00:00Z)")));
  r = Run({"verify", path});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_EQ(FirstLine(r.out), "TRUSTED (mx8.org-b.example, org-b.example)");
  r = Run({"list", "--server", "mx8.org-b.example", "--json"});
  json = ParseJson(r.out);
  EXPECT_EQ(Field(Field(Field(json, "servers").list_value().values(0), "pins")
                      .list_value()
                      .values(0),
                  "pin_not_after")
                .string_value(),
            date + "T00:00:00Z");

  // Republishing the same window changes nothing.
  r = Run({"publish", "--server", "mx8.org-b.example", "--not-before",
           Rfc3339(now - absl::Minutes(10)), "--not-after", date, path,
           "--json"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(Field(ParseJson(r.out), "outcome").string_value(),
            "ALREADY_PUBLISHED");
}

TEST_F(PinningTest, BadPinWindowsAreRefused) {
  const TestCert cert = MakeTestCert({.common_name = "mx9.org-b.example"});
  const std::string path = WriteTempFile("mx9.pem", cert.pem);
  const std::string beyond = Date(absl::Now() + absl::Hours(24 * 400));
  CommandResult r = Run({"publish", "--server", "mx9.org-b.example", "--domain",
                         "org-b.example", "--not-after", beyond, path});
  EXPECT_EQ(r.exit_code(), 2) << r.out;
  EXPECT_THAT(r.err, AllOf(HasSubstr(beyond + "T00:00:00Z"),
                           HasSubstr("outside the certificate's validity")));
  const std::string soon = Rfc3339(absl::Now() + absl::Hours(2));
  r = Run({"publish", "--server", "mx9.org-b.example", "--domain",
           "org-b.example", "--not-before", soon, "--not-after", soon, path});
  EXPECT_EQ(r.exit_code(), 2) << r.out;
  EXPECT_THAT(r.err, HasSubstr("is not before its end " + soon));
  r = Run({"publish", "--server", "mx9.org-b.example", "--domain",
           "org-b.example", "--not-after", "2026-13-01", path});
  EXPECT_EQ(r.exit_code(), 2) << r.out;
  EXPECT_THAT(r.err, HasSubstr("--not-after 2026-13-01: not an RFC 3339"));
  r = Run({"import", path, "--not-after", soon});
  EXPECT_EQ(r.exit_code(), 2) << r.out;
  EXPECT_THAT(r.err, HasSubstr("--not-after is for --enable smtp"));
  // Nothing was published.
  r = Run({"list", "--server", "mx9.org-b.example"});
  EXPECT_EQ(r.out, "no published server matches\n");

  // import --enable smtp takes the window as publish does.
  r = Run({"import", path, "--enable", "smtp", "--server", "mx9.org-b.example",
           "--domain", "org-b.example", "--not-after", soon});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(DetailValue(r.out, "pin window"), "until " + soon);
}

TEST_F(PinningTest, ExpiringListsLapsingPinsForMonitoring) {
  const absl::Time now = absl::Now();
  const TestCert retired = MakeTestCert({.common_name = "mx10.org-b.example"});
  const TestCert current = MakeTestCert({.common_name = "mx10.org-b.example"});
  const TestCert lasting = MakeTestCert({.common_name = "mx10.org-b.example"});
  Publish(retired, "mx10.org-b.example",
          {"--not-before", Rfc3339(now - absl::Minutes(50)), "--not-after",
           Rfc3339(now - absl::Minutes(30))});
  const std::string ends = Rfc3339(now + absl::Hours(48));
  Publish(current, "mx10.org-b.example", {"--not-after", ends});
  Publish(lasting, "mx10.org-b.example");
  const std::string retired_sha256 =
      OpensslSha256(WriteTempFile("retired.pem", retired.pem));
  const std::string current_sha256 =
      OpensslSha256(WriteTempFile("current.pem", current.pem));

  // Within a day: the lapsed pin only.
  CommandResult r =
      Run({"expiring", "--server", "mx10.org-b.example", "--within", "1d"});
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_THAT(r.out, AllOf(StartsWith("lapsed "), HasSubstr(retired_sha256),
                           HasSubstr("pin window ends"),
                           Not(HasSubstr(current_sha256))));

  // Within 30 days (the default): both, sorted by when they lapse.
  r = Run({"expiring", "--server", "mx10.org-b.example", "--json"});
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  google::protobuf::Value json = ParseJson(r.out);
  const auto& pins = Field(json, "pins").list_value();
  ASSERT_EQ(pins.values_size(), 2) << r.out;
  EXPECT_EQ(Field(pins.values(0), "state").string_value(), "lapsed");
  EXPECT_EQ(Field(pins.values(0), "cause").string_value(), "pin-window");
  EXPECT_EQ(Field(Field(pins.values(0), "pin"), "sha256").string_value(),
            ColonHexToLower(retired_sha256));
  EXPECT_EQ(Field(pins.values(1), "state").string_value(), "lapsing");
  EXPECT_EQ(Field(pins.values(1), "lapses_at").string_value(), ends);
  EXPECT_EQ(Field(pins.values(1), "server").string_value(),
            "mx10.org-b.example");
  EXPECT_THAT(StringList(Field(pins.values(1), "domains")),
              ElementsAre("org-b.example"));

  // The certificate's own notAfter counts, too (a year away).
  r = Run({"expiring", "--server", "mx10.org-b.example", "--within", "400d"});
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_THAT(r.out, HasSubstr("certificate expires"));

  // Nothing lapsing: exit 0.
  const TestCert fresh = MakeTestCert({.common_name = "mx11.org-b.example"});
  Publish(fresh, "mx11.org-b.example");
  r = Run({"expiring", "--server", "mx11.org-b.example", "--within", "30d"});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_EQ(r.out, "no pin lapses within 30d\n");
  r = Run({"expiring", "--server", "mx11.org-b.example", "--json"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(Field(ParseJson(r.out), "pins").list_value().values_size(), 0);

  r = Run({"expiring", "--within", "soon"});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_THAT(r.err, HasSubstr("--within soon"));
}

}  // namespace
}  // namespace dtrust::testing
