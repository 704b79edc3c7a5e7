// Entries other tools wrote, added with the real ldapadd (`ldapmodify -a`)
// to a real slapd, as the real dtrustd reads them without a mirror
// (--directory-sync none), with the content-sync mirror
// (refresh-and-persist) and with the poller: `dtrust domain list`,
// `dtrust list`, the policy service and the socketmap agree. A name is
// normalized as the CLI normalizes it (trailing dot, upper case, surrounding
// spaces, an escaped character in the DN) or, if the CLI would reject it (a
// U-label), the entry is skipped with a warning naming its DN.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "server/postfix/listen_address.h"
#include "server/postfix/socketmap_protocol.h"
#include "tests/client/cli_test_util.h"
#include "tests/server/postfix/test_client.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/eventually.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

namespace dtrust::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Domain Security entries as another tool writes them, each enforced in
// both directions, with the name dtrust must read (the socketmap's and
// policy's key), and a server whose names are written likewise.
constexpr char kForeignLdif[] = R"(dn: ou=servers,dc=example,dc=org
objectClass: organizationalUnit
ou: servers

dn: ou=domains,dc=example,dc=org
objectClass: organizationalUnit
ou: domains

dn: cn=org-c.example.,ou=domains,dc=example,dc=org
objectClass: dtrustSecureDomain
cn: org-c.example.
dtrustSendSecurity: enforce
dtrustReceiveSecurity: enforce

dn: cn=ORG-D.Example,ou=domains,dc=example,dc=org
objectClass: dtrustSecureDomain
cn: ORG-D.Example
dtrustSendSecurity: enforce
dtrustReceiveSecurity: enforce

dn: cn=\20org-e.example\20,ou=domains,dc=example,dc=org
objectClass: dtrustSecureDomain
cn:: IG9yZy1lLmV4YW1wbGUg
dtrustSendSecurity: enforce
dtrustReceiveSecurity: enforce

dn: cn=org\2Df.example,ou=domains,dc=example,dc=org
objectClass: dtrustSecureDomain
cn: org-f.example
dtrustSendSecurity: enforce
dtrustReceiveSecurity: enforce

dn: cn=xn--bcher-kva.example,ou=domains,dc=example,dc=org
objectClass: dtrustSecureDomain
cn: xn--bcher-kva.example
dtrustSendSecurity: enforce
dtrustReceiveSecurity: enforce

dn:: Y249YsO8Y2hlci5leGFtcGxlLG91PWRvbWFpbnMsZGM9ZXhhbXBsZSxkYz1vcmc=
objectClass: dtrustSecureDomain
cn:: YsO8Y2hlci5leGFtcGxl
dtrustSendSecurity: enforce
dtrustReceiveSecurity: enforce

dn: cn=MX.Org-C.Example.,ou=servers,dc=example,dc=org
objectClass: dtrustTransportServer
cn: MX.Org-C.Example.
dtrustMailDomain: ORG-C.example.
)";

// Two entries whose names normalize alike: the stricter (enforce) wins; a
// server with the domains of both.
constexpr char kCollisionLdif[] =
    R"(dn: cn=org-g.example,ou=domains,dc=example,dc=org
objectClass: dtrustSecureDomain
cn: org-g.example
dtrustSendSecurity: testing
dtrustReceiveSecurity: testing

dn: cn=ORG-G.example.,ou=domains,dc=example,dc=org
objectClass: dtrustSecureDomain
cn: ORG-G.example.
dtrustSendSecurity: enforce
dtrustReceiveSecurity: enforce

dn: cn=org-i.example,ou=domains,dc=example,dc=org
objectClass: dtrustSecureDomain
cn: org-i.example
dtrustSendSecurity: enforce
dtrustReceiveSecurity: enforce

dn: cn=ORG-I.example.,ou=domains,dc=example,dc=org
objectClass: dtrustSecureDomain
cn: ORG-I.example.
dtrustSendSecurity: testing
dtrustReceiveSecurity: testing

dn: cn=mx.org-h.example,ou=servers,dc=example,dc=org
objectClass: dtrustTransportServer
cn: mx.org-h.example
dtrustMailDomain: org-h1.example

dn: cn=MX.ORG-H.example.,ou=servers,dc=example,dc=org
objectClass: dtrustTransportServer
cn: MX.ORG-H.example.
dtrustMailDomain: org-h2.example
)";

// Deletes the second entry of each pair above (org-g's enforce one,
// org-i's testing one, the one giving org-h2.example: the ones a mirror
// keeping only the entry it applied last would have kept), then adds a
// marker entry: once it is seen, so are the deletions.
constexpr char kDeleteOfEachPairLdif[] =
    R"(dn: cn=ORG-G.example.,ou=domains,dc=example,dc=org
changetype: delete

dn: cn=ORG-I.example.,ou=domains,dc=example,dc=org
changetype: delete

dn: cn=MX.ORG-H.example.,ou=servers,dc=example,dc=org
changetype: delete

dn: cn=org-z.example,ou=domains,dc=example,dc=org
changetype: add
objectClass: dtrustSecureDomain
cn: org-z.example
dtrustSendSecurity: enforce
)";

constexpr const char* kEnforced[] = {"org-c.example", "org-d.example",
                                     "org-e.example", "org-f.example",
                                     "xn--bcher-kva.example"};

std::string PolicyRequest(const std::string& sender) {
  return absl::StrCat("request=smtpd_access_policy\nprotocol_state=RCPT\n",
                      "sender=", sender,
                      "\nclient_address=127.0.0.1\nclient_name=localhost\n"
                      "instance=1.2.3\nencryption_protocol=\n\n");
}

// The policy service's answer for mail from `domain` without TLS.
std::string PolicyAnswer(const std::string& socket, const std::string& domain) {
  absl::StatusOr<std::unique_ptr<TestClient>> client =
      TestClient::Connect(*ParseListenAddress("unix:" + socket));
  if (!client.ok() || !(*client)->Send(PolicyRequest("alice@" + domain))) {
    return "(no connection)";
  }
  return (*client)->ReadUntil("\n\n");
}

// The socketmap's answer for next hop `domain` in map "dtrust".
std::string SocketmapAnswer(const std::string& socket,
                            const std::string& domain) {
  absl::StatusOr<std::unique_ptr<TestClient>> client =
      TestClient::Connect(*ParseListenAddress("unix:" + socket));
  if (!client.ok() ||
      !(*client)->Send(FormatNetstring(absl::StrCat("dtrust ", domain)))) {
    return "(no connection)";
  }
  return (*client)->ReadNetstringData();
}

class ForeignEntriesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void StartDtrustd() {
    slapd_ = SlapdFixture::Start();
    ASSERT_TRUE(slapd_.ok()) << slapd_.status();
    ASSERT_TRUE((*slapd_)->LdapModify(kForeignLdif).ok());
    ASSERT_TRUE((*slapd_)->LdapModify(kCollisionLdif).ok());
    std::vector<std::string> flags = {
        "--directory-sync",   GetParam(),
        "--policy-listen",    "unix:" + policy_,
        "--socketmap-listen", "unix:" + socketmap_,
        "--socketmap-name",   "dtrust"};
    if (GetParam() == "poll") {
      flags.insert(flags.end(), {"--poll-interval", "1s"});
    }
    dtrustd_ = DtrustdProcess::StartWithLdap(**slapd_, flags);
    ASSERT_TRUE(dtrustd_.ok()) << dtrustd_.status();
    cli_ = std::make_unique<DtrustCli>((*dtrustd_)->endpoint());
  }

  // `domain` enforced in all four views; `domains` is `domain list`'s.
  void ExpectEnforced(const std::string& domain, const std::string& domains) {
    EXPECT_THAT(domains, HasSubstr(domain + " ")) << domains;
    EXPECT_THAT(domains, Not(HasSubstr(domain + ".")));
    EXPECT_NE(PolicyAnswer(policy_, domain), "action=DUNNO\n\n") << domain;
    // Enforced without a published certificate: TEMP, never NOTFOUND.
    EXPECT_THAT(SocketmapAnswer(socketmap_, domain),
                HasSubstr("TEMP dtrust: " + domain + " is send-secure"));
  }

  TempDir dir_;
  const std::string policy_ = dir_.path() + "/policy.sock";
  const std::string socketmap_ = dir_.path() + "/socketmap.sock";
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd_;
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd_;
  std::unique_ptr<DtrustCli> cli_;
};

TEST_P(ForeignEntriesTest, AllFourViewsAgree) {
  ASSERT_NO_FATAL_FAILURE(StartDtrustd());

  std::vector<std::string> enforced(std::begin(kEnforced), std::end(kEnforced));
  // Their stricter entry's mode.
  enforced.insert(enforced.end(), {"org-g.example", "org-i.example"});
  const CommandResult domains = cli_->Run({"domain", "list"});
  ASSERT_EQ(domains.exit_code(), 0) << domains.err;
  for (const std::string& domain : enforced) {
    ExpectEnforced(domain, domains.out);
  }
  EXPECT_THAT(domains.out, Not(HasSubstr("testing"))) << domains.out;

  // The U-label entry: no query can name it, so it is on no list.
  EXPECT_THAT(domains.out, Not(HasSubstr("cher.example ")));
  EXPECT_EQ(SocketmapAnswer(socketmap_, "bücher.example"), "NOTFOUND ");
  EXPECT_EQ(PolicyAnswer(policy_, "bücher.example"), "action=DUNNO\n\n");
  EXPECT_NE(cli_->Run({"domain", "show", "bücher.example"}).exit_code(), 0);

  const CommandResult servers = cli_->Run({"list"});
  ASSERT_EQ(servers.exit_code(), 0) << servers.err;
  EXPECT_THAT(
      servers.out,
      AllOf(HasSubstr("mx.org-c.example"), Not(HasSubstr("MX.")),
            Not(HasSubstr("mx.org-c.example.")), Not(HasSubstr("ORG-C"))))
      << servers.out;
  const CommandResult by_domain =
      cli_->Run({"list", "--domain", "org-c.example"});
  EXPECT_THAT(by_domain.out, HasSubstr("mx.org-c.example")) << by_domain.err;
  // The server both spellings name serves the domains of both.
  for (const char* domain : {"org-h1.example", "org-h2.example"}) {
    const CommandResult listed = cli_->Run({"list", "--domain", domain});
    EXPECT_THAT(listed.out, HasSubstr("mx.org-h.example")) << listed.err;
  }

  EXPECT_THAT((*dtrustd_)->Log(),
              AllOf(HasSubstr("ignoring Domain Security entry"),
                    HasSubstr("her.example,ou=domains,dc=example,dc=org")));
}

// Deleting one entry of a pair leaves the other's contribution: org-i stays
// enforced (the deleted entry said testing), org-g is in testing (the
// deleted entry said enforce), mx.org-h keeps org-h1.
TEST_P(ForeignEntriesTest, DeletingOneOfAPairLeavesTheOther) {
  ASSERT_NO_FATAL_FAILURE(StartDtrustd());
  ASSERT_TRUE((*slapd_)->LdapModify(kDeleteOfEachPairLdif).ok());
  CommandResult domains;
  EXPECT_TRUE(Eventually(
      [&] {
        domains = cli_->Run({"domain", "list"});
        return absl::StrContains(domains.out, "org-z.example");
      },
      absl::Seconds(10)))
      << domains.out << domains.err;
  ExpectEnforced("org-i.example", domains.out);
  EXPECT_THAT(domains.out, HasSubstr("org-g.example ")) << domains.out;
  EXPECT_EQ(SocketmapAnswer(socketmap_, "org-g.example"), "OK may");
  EXPECT_THAT(cli_->Run({"list", "--domain", "org-h1.example"}).out,
              HasSubstr("mx.org-h.example"));
  EXPECT_THAT(cli_->Run({"list", "--domain", "org-h2.example"}).out,
              Not(HasSubstr("mx.org-h.example")));
}

// A pin entry for `cert` below the server entry `server_rdn`, as another
// tool writes it.
std::string PinLdif(const std::string& server_rdn, const TestCert& cert) {
  const absl::StatusOr<Certificate> parsed = Certificate::FromDer(cert.der);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return "";
  return absl::StrCat("dn: dtrustCertSha256=", parsed->sha256().ToHex(), ",",
                      server_rdn, ",ou=servers,dc=example,dc=org\n",
                      "objectClass: dtrustPinnedCertificate\n",
                      "dtrustCertSha256: ", parsed->sha256().ToHex(), "\n",
                      "dtrustSpkiSha256: ", parsed->spki_sha256().ToHex(),
                      "\ndtrustPinKind: certificate\n",
                      "userCertificate;binary:: ", absl::Base64Escape(cert.der),
                      "\n\n");
}

// `dtrust unpublish` of a server another tool spelled cn=MX1.example. (and
// cn=mx1.example beside it): the pin goes from below every spelling, and
// with the last pin every spelling's server entry.
TEST_P(ForeignEntriesTest, UnpublishRemovesEverySpelling) {
  ASSERT_NO_FATAL_FAILURE(StartDtrustd());
  const TestCert both = MakeTestCert({.common_name = "mx1.example"});
  const TestCert foreign = MakeTestCert({.common_name = "mx1.example"});
  ASSERT_TRUE(
      (*slapd_)
          ->LdapModify(absl::StrCat(
              "dn: cn=mx1.example,ou=servers,dc=example,dc=org\n"
              "objectClass: dtrustTransportServer\ncn: mx1.example\n"
              "dtrustMailDomain: mx1-d1.example\n\n"
              "dn: cn=MX1.example.,ou=servers,dc=example,dc=org\n"
              "objectClass: dtrustTransportServer\ncn: MX1.example.\n"
              "dtrustMailDomain: mx1-d2.example\n\n",
              PinLdif("cn=mx1.example", both), PinLdif("cn=MX1.example.", both),
              PinLdif("cn=MX1.example.", foreign)))
          .ok());
  const std::string both_fingerprint =
      Certificate::FromDer(both.der)->sha256().ToColonHex();
  const std::string foreign_fingerprint =
      Certificate::FromDer(foreign.der)->sha256().ToColonHex();
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(
        cli_->Run({"verify", "--sha256", foreign_fingerprint}).out, "TRUSTED");
  })) << "the pins never arrived";

  const std::string pem = WriteTempFile("both.pem", both.pem);
  const CommandResult by_server =
      cli_->Run({"unpublish", "--server", "mx1.example", pem});
  EXPECT_EQ(by_server.exit_code(), 0) << by_server.out << by_server.err;
  EXPECT_THAT(cli_->Run({"verify", "--sha256", both_fingerprint}).out,
              HasSubstr("NOT_PUBLISHED"));
  EXPECT_THAT(cli_->Run({"verify", "--sha256", foreign_fingerprint}).out,
              HasSubstr("TRUSTED"));
  EXPECT_EQ(
      *(*slapd_)->LdapSearch(
          "ou=servers,dc=example,dc=org",
          absl::StrCat("(dtrustCertSha256=",
                       Certificate::FromDer(both.der)->sha256().ToHex(), ")"),
          {"dn"}),
      "");

  const CommandResult by_digest =
      cli_->Run({"unpublish", "--sha256", foreign_fingerprint});
  EXPECT_EQ(by_digest.exit_code(), 0) << by_digest.out << by_digest.err;
  EXPECT_THAT(cli_->Run({"verify", "--sha256", foreign_fingerprint}).out,
              HasSubstr("NOT_PUBLISHED"));
  EXPECT_THAT(cli_->Run({"list"}).out, Not(HasSubstr("mx1.example")));
  EXPECT_EQ(*(*slapd_)->LdapSearch("ou=servers,dc=example,dc=org", "(cn=*mx1*)",
                                   {"dn"}),
            "");
}

// `dtrust publish` for a server another tool spelled only cn=MX2.example.:
// the pin and the new domain go into that entry, no second entry is made.
TEST_P(ForeignEntriesTest, PublishToAServerOnlyUnderAForeignSpelling) {
  ASSERT_NO_FATAL_FAILURE(StartDtrustd());
  ASSERT_TRUE(
      (*slapd_)
          ->LdapModify("dn: cn=MX2.example.,ou=servers,dc=example,dc=org\n"
                       "objectClass: dtrustTransportServer\ncn: MX2.example.\n"
                       "dtrustMailDomain: mx2-d1.example\n\n")
          .ok());
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(cli_->Run({"list"}).out, "mx2.example");
  })) << "the server never arrived";
  const TestCert cert = MakeTestCert({.common_name = "mx2.example"});
  const std::string pem = WriteTempFile("mx2.pem", cert.pem);
  const CommandResult published =
      cli_->Run({"publish", "--server", "mx2.example", "--domain",
                 "mx2-d2.example", pem});
  EXPECT_EQ(published.exit_code(), 0) << published.out << published.err;
  const std::string fingerprint =
      Certificate::FromDer(cert.der)->sha256().ToColonHex();
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(cli_->Run({"verify", "--sha256", fingerprint,
                                        "--domain", "mx2-d2.example"})
                                 .out,
                             "TRUSTED");
  })) << cli_->Run({"verify", "--sha256", fingerprint}).out;
  EXPECT_EQ(*(*slapd_)->LdapSearch("ou=servers,dc=example,dc=org",
                                   "(&(objectClass=dtrustTransportServer)"
                                   "(cn=*mx2*))",
                                   {"dn"}),
            "dn: cn=MX2.example.,ou=servers,dc=example,dc=org\n\n");
}

INSTANTIATE_TEST_SUITE_P(SyncModes, ForeignEntriesTest,
                         ::testing::Values("none", "refresh-and-persist",
                                           "poll"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

}  // namespace
}  // namespace dtrust::testing
