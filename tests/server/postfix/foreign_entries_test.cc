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

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/postfix/listen_address.h"
#include "server/postfix/socketmap_protocol.h"
#include "tests/client/cli_test_util.h"
#include "tests/server/postfix/test_client.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/slapd_fixture.h"

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

// Two entries whose names normalize alike: the stricter (enforce) wins.
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

class ForeignEntriesTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ForeignEntriesTest, AllFourViewsAgree) {
  const bool direct = GetParam() == "none";
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  ASSERT_TRUE((*slapd)->LdapModify(kForeignLdif).ok());
  // The mirror keeps one policy per name; only direct reads merge entries.
  if (direct) {
    ASSERT_TRUE((*slapd)->LdapModify(kCollisionLdif).ok());
  }
  TempDir dir;
  const std::string policy = dir.path() + "/policy.sock";
  const std::string socketmap = dir.path() + "/socketmap.sock";
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartWithLdap(
          **slapd, {"--directory-sync", GetParam(), "--policy-listen",
                    "unix:" + policy, "--socketmap-listen", "unix:" + socketmap,
                    "--socketmap-name", "dtrust"});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const DtrustCli cli((*dtrustd)->endpoint());

  std::vector<std::string> enforced(std::begin(kEnforced), std::end(kEnforced));
  if (direct) enforced.push_back("org-g.example");
  const CommandResult domains = cli.Run({"domain", "list"});
  ASSERT_EQ(domains.exit_code(), 0) << domains.err;
  for (const std::string& domain : enforced) {
    EXPECT_THAT(domains.out, HasSubstr(domain + " ")) << domains.out;
    EXPECT_THAT(domains.out, Not(HasSubstr(domain + ".")));
    EXPECT_NE(PolicyAnswer(policy, domain), "action=DUNNO\n\n") << domain;
    // Enforced without a published certificate: TEMP, never NOTFOUND.
    EXPECT_THAT(SocketmapAnswer(socketmap, domain),
                HasSubstr("TEMP dtrust: " + domain + " is send-secure"));
  }
  if (direct) {
    EXPECT_THAT(domains.out, Not(HasSubstr("testing"))) << domains.out;
  }

  // The U-label entry: no query can name it, so it is on no list.
  EXPECT_THAT(domains.out, Not(HasSubstr("cher.example ")));
  EXPECT_EQ(SocketmapAnswer(socketmap, "bücher.example"), "NOTFOUND ");
  EXPECT_EQ(PolicyAnswer(policy, "bücher.example"), "action=DUNNO\n\n");
  EXPECT_NE(cli.Run({"domain", "show", "bücher.example"}).exit_code(), 0);

  const CommandResult servers = cli.Run({"list"});
  ASSERT_EQ(servers.exit_code(), 0) << servers.err;
  EXPECT_THAT(
      servers.out,
      AllOf(HasSubstr("mx.org-c.example"), Not(HasSubstr("MX.")),
            Not(HasSubstr("mx.org-c.example.")), Not(HasSubstr("ORG-C"))))
      << servers.out;
  const CommandResult by_domain =
      cli.Run({"list", "--domain", "org-c.example"});
  EXPECT_THAT(by_domain.out, HasSubstr("mx.org-c.example")) << by_domain.err;

  EXPECT_THAT((*dtrustd)->Log(),
              AllOf(HasSubstr("ignoring Domain Security entry"),
                    HasSubstr("her.example,ou=domains,dc=example,dc=org")));
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
