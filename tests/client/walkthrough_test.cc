// The walkthrough, through the real dtrust and dtrustd binaries:
// once with dtrustd running its embedded slapd, once against a separate
// slapd (SlapdFixture) with a service account.
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/cli_test_util.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/slapd_fixture.h"

namespace dtrust::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

constexpr char kRfc3339[] =
    "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z";

// Runs the walkthrough against `cli`; `slapd` (may be null) is the directory
// dtrustd writes to, checked after publishing.
void RunWalkthrough(const DtrustCli& cli, const SlapdFixture* slapd) {
  const OpensslCert mx1 = MakeOpensslCert("mx1.org-b.example");
  const OpensslCert other = MakeOpensslCert("mx1.org-b.example");
  const std::string sha256 = OpensslSha256(mx1.cert_path);
  const std::string spki_sha256 = OpensslSpkiSha256(mx1.cert_path);
  ASSERT_EQ(sha256.size(), 95u) << sha256;
  ASSERT_EQ(spki_sha256.size(), 64u) << spki_sha256;

  // dtrust publish --server mx1.org-b.example --domain org-b.example mx1.pem
  CommandResult r = cli.Run({"publish", "--server", "mx1.org-b.example",
                             "--domain", "org-b.example", mx1.cert_path});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(FirstLine(r.out), absl::StrCat("published ", mx1.cert_path,
                                           " for mx1.org-b.example"));
  EXPECT_EQ(DetailValue(r.out, "sha256"), sha256);
  EXPECT_EQ(DetailValue(r.out, "domains added"), "org-b.example");
  EXPECT_EQ(DetailValue(r.out, "pin"), "certificate");
  EXPECT_EQ(r.err, "");

  if (slapd != nullptr) {
    absl::StatusOr<std::string> ldif = slapd->LdapSearch(
        slapd->suffix(), "(objectClass=dtrustPinnedCertificate)",
        {"dtrustCertSha256", "dtrustSpkiSha256", "dtrustPinKind",
         "userCertificate;binary"});
    ASSERT_TRUE(ldif.ok()) << ldif.status();
    EXPECT_THAT(*ldif,
                HasSubstr(absl::StrCat(
                    "dn: dtrustCertSha256=", ColonHexToLower(sha256),
                    ",cn=mx1.org-b.example,ou=servers,", slapd->suffix())));
    EXPECT_THAT(*ldif, HasSubstr(absl::StrCat("dtrustCertSha256: ",
                                              ColonHexToLower(sha256))));
    EXPECT_THAT(*ldif,
                HasSubstr(absl::StrCat("dtrustSpkiSha256: ", spki_sha256)));
    EXPECT_THAT(*ldif, HasSubstr("dtrustPinKind: certificate"));
    EXPECT_THAT(*ldif, HasSubstr("userCertificate;binary:: MII"));
  }

  // dtrust verify mx1.pem  ->  TRUSTED (mx1.org-b.example, org-b.example)
  r = cli.Run({"verify", mx1.cert_path});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_EQ(FirstLine(r.out), "TRUSTED (mx1.org-b.example, org-b.example)");
  EXPECT_EQ(DetailValue(r.out, "sha256"), sha256);
  EXPECT_EQ(ColonHexToLower(DetailValue(r.out, "spki-sha256")), spki_sha256);
  EXPECT_EQ(DetailValue(r.out, "pin"), "certificate");
  EXPECT_THAT(DetailValue(r.out, "not-before"), MatchesRegex(kRfc3339));
  EXPECT_THAT(DetailValue(r.out, "not-after"), MatchesRegex(kRfc3339));

  r = cli.Run({"verify", mx1.cert_path, "--json"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  google::protobuf::Value json = ParseJson(r.out);
  EXPECT_EQ(Field(json, "verdict").string_value(), "TRUSTED");
  EXPECT_EQ(Field(json, "sha256").string_value(), ColonHexToLower(sha256));
  EXPECT_EQ(Field(json, "spki_sha256").string_value(), spki_sha256);
  EXPECT_EQ(Field(json, "server").string_value(), "mx1.org-b.example");
  EXPECT_THAT(StringList(Field(json, "domains")), ElementsAre("org-b.example"));
  EXPECT_EQ(Field(json, "pin_kind").string_value(), "certificate");
  EXPECT_THAT(Field(json, "not_before").string_value(), MatchesRegex(kRfc3339));
  EXPECT_THAT(Field(json, "not_after").string_value(), MatchesRegex(kRfc3339));
  EXPECT_TRUE(Field(json, "reason").has_string_value());

  // By fingerprint, as openssl prints it and in lower case without colons.
  r = cli.Run({"verify", "--sha256", sha256, "--server", "mx1.org-b.example"});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("TRUSTED (mx1.org-b.example"));
  r = cli.Run({"verify", "--sha256", ColonHexToLower(sha256)});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;

  // dtrust verify mx1.pem --domain org-c.example  ->  WRONG_DOMAIN
  r = cli.Run({"verify", mx1.cert_path, "--domain", "org-c.example"});
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_THAT(FirstLine(r.out), StartsWith("WRONG_DOMAIN"));
  EXPECT_NE(DetailValue(r.out, "reason"), "-");
  EXPECT_EQ(r.err, "");

  // dtrust verify other.pem  ->  NOT_PUBLISHED
  r = cli.Run({"verify", other.cert_path});
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");
  EXPECT_EQ(DetailValue(r.out, "sha256"), OpensslSha256(other.cert_path));
  EXPECT_NE(DetailValue(r.out, "reason"), "-");

  // dtrust list --json
  r = cli.Run({"list", "--json"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  json = ParseJson(r.out);
  const auto& servers = Field(json, "servers").list_value().values();
  ASSERT_EQ(servers.size(), 1) << r.out;
  EXPECT_EQ(Field(servers[0], "name").string_value(), "mx1.org-b.example");
  EXPECT_THAT(StringList(Field(servers[0], "domains")),
              ElementsAre("org-b.example"));
  const auto& pins = Field(servers[0], "pins").list_value().values();
  ASSERT_EQ(pins.size(), 1) << r.out;
  EXPECT_EQ(Field(pins[0], "sha256").string_value(), ColonHexToLower(sha256));
  EXPECT_EQ(Field(pins[0], "spki_sha256").string_value(), spki_sha256);
  EXPECT_EQ(Field(pins[0], "pin_kind").string_value(), "certificate");
  EXPECT_THAT(Field(pins[0], "not_before").string_value(),
              MatchesRegex(kRfc3339));
  EXPECT_THAT(Field(pins[0], "not_after").string_value(),
              MatchesRegex(kRfc3339));
  EXPECT_THAT(Field(pins[0], "subject").string_value(),
              HasSubstr("CN=mx1.org-b.example"));

  // The same as text.
  r = cli.Run({"list"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(FirstLine(r.out), "mx1.org-b.example");
  EXPECT_EQ(DetailValue(r.out, "domains"), "org-b.example");
  EXPECT_EQ(DetailValue(r.out, "sha256"), sha256);
  EXPECT_THAT(DetailValue(r.out, "subject"), HasSubstr("CN=mx1.org-b.example"));

  // dtrust unpublish mx1.pem
  r = cli.Run({"unpublish", mx1.cert_path});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(FirstLine(r.out),
            absl::StrCat("unpublished ", sha256, " from mx1.org-b.example"));

  // dtrust verify mx1.pem  ->  NOT_PUBLISHED
  r = cli.Run({"verify", mx1.cert_path});
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");

  r = cli.Run({"list", "--json"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.out, "{\"servers\":[]}\n");
  if (slapd != nullptr) {
    absl::StatusOr<std::string> ldif = slapd->LdapSearch(
        slapd->suffix(), "(objectClass=dtrustPinnedCertificate)");
    ASSERT_TRUE(ldif.ok()) << ldif.status();
    EXPECT_EQ(*ldif, "");
  }
}

TEST(WalkthroughTest, EmbeddedDirectory) {
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartEmbedded();
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  RunWalkthrough(DtrustCli((*dtrustd)->endpoint()), nullptr);
  EXPECT_TRUE((*dtrustd)->Stop().ok()) << (*dtrustd)->Log();
}

TEST(WalkthroughTest, SeparateSlapdWithServiceAccount) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartWithLdap(**slapd);
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  RunWalkthrough(DtrustCli((*dtrustd)->endpoint()), slapd->get());
  EXPECT_TRUE((*dtrustd)->Stop().ok()) << (*dtrustd)->Log();
}

TEST(WalkthroughTest, EndpointFromEnvironmentUnlessGiven) {
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartEmbedded();
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const std::string env = "DTRUST_ENDPOINT=" + (*dtrustd)->endpoint();
  CommandResult r = RunDtrust({"list"}, {env});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.out, "no servers published\n");
  // --endpoint wins over the environment.
  r = RunDtrust({"list", "--endpoint", "unix:/nonexistent/dtrustd.sock"},
                {env});
  EXPECT_EQ(r.exit_code(), 3) << r.out;
  EXPECT_THAT(r.err, HasSubstr("unix:/nonexistent/dtrustd.sock"));
}

}  // namespace
}  // namespace dtrust::testing
