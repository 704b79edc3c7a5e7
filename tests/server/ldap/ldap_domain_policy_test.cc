// The Domain Security lists in LdapDirectory, against a real slapd
// (tests/testing/slapd_fixture.h).
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/domain_security.h"
#include "server/ldap/ldap_directory.h"
#include "tests/server/ldap/ldap_directory_fixture.h"

namespace dtrust {
namespace {

using ::dtrust::testing::LdapDirectoryFixture;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kDomain[] = "org-b.example";

std::vector<std::string> Domains(const std::vector<DomainPolicy>& policies) {
  std::vector<std::string> domains;
  for (const DomainPolicy& policy : policies) domains.push_back(policy.domain);
  return domains;
}

class LdapDomainPolicyTest : public LdapDirectoryFixture {
 protected:
  // The stored policy of `domain`; nullopt (and a test failure on error) if
  // there is none.
  std::optional<DomainPolicy> Get(absl::string_view domain) {
    absl::StatusOr<std::optional<DomainPolicy>> policy =
        directory_->GetDomainPolicy(domain);
    EXPECT_TRUE(policy.ok()) << policy.status();
    return policy.value_or(std::nullopt);
  }

  std::string DomainDn(absl::string_view domain) const {
    return absl::StrCat("cn=", domain, ",", DomainsDn());
  }

  // Adds a dtrustSecureDomain entry with `attributes` (LDIF lines) by hand.
  void AddByHand(absl::string_view domain, absl::string_view attributes) {
    ASSERT_TRUE(slapd_
                    ->LdapModify(absl::StrCat(
                        "dn: ", DomainDn(domain),
                        "\nobjectClass: dtrustSecureDomain\ncn: ", domain, "\n",
                        attributes))
                    .ok());
  }
};

TEST_F(LdapDomainPolicyTest, PutGetListReplaceRemove) {
  Connect();
  absl::StatusOr<std::vector<DomainPolicy>> empty =
      directory_->ListDomainPolicies();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_THAT(*empty, IsEmpty());
  EXPECT_FALSE(Get(kDomain).has_value());

  ASSERT_TRUE(directory_
                  ->PutDomainPolicy({.domain = kDomain,
                                     .send = SecureMode::kEnforce,
                                     .receive = SecureMode::kTesting})
                  .ok());
  ASSERT_TRUE(directory_
                  ->PutDomainPolicy({.domain = "org-a.example",
                                     .send = SecureMode::kOff,
                                     .receive = SecureMode::kEnforce})
                  .ok());
  std::optional<DomainPolicy> policy = Get(kDomain);
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ(policy->domain, kDomain);
  EXPECT_EQ(policy->send, SecureMode::kEnforce);
  EXPECT_EQ(policy->receive, SecureMode::kTesting);
  EXPECT_FALSE(Get("org-c.example").has_value());

  absl::StatusOr<std::vector<DomainPolicy>> all =
      directory_->ListDomainPolicies();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Domains(*all), ElementsAre("org-a.example", kDomain));
  EXPECT_EQ((*all)[0].send, SecureMode::kOff);
  EXPECT_EQ((*all)[0].receive, SecureMode::kEnforce);

  // Replacing: a direction turned off loses its attribute.
  ASSERT_TRUE(directory_
                  ->PutDomainPolicy({.domain = kDomain,
                                     .send = SecureMode::kOff,
                                     .receive = SecureMode::kEnforce})
                  .ok());
  policy = Get(kDomain);
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ(policy->send, SecureMode::kOff);
  EXPECT_EQ(policy->receive, SecureMode::kEnforce);
  const std::string ldif = Search(DomainDn(kDomain), "(objectClass=*)");
  EXPECT_THAT(ldif, AllOf(Not(HasSubstr("dtrustSendSecurity")),
                          HasSubstr("dtrustReceiveSecurity: enforce")));
  // Putting the same policy again is fine.
  EXPECT_TRUE(directory_
                  ->PutDomainPolicy({.domain = kDomain,
                                     .send = SecureMode::kOff,
                                     .receive = SecureMode::kEnforce})
                  .ok());

  ASSERT_TRUE(directory_->RemoveDomainPolicy(kDomain).ok());
  EXPECT_FALSE(Get(kDomain).has_value());
  absl::Status again = directory_->RemoveDomainPolicy(kDomain);
  EXPECT_TRUE(absl::IsNotFound(again)) << again;
  EXPECT_THAT(again.message(), HasSubstr(kDomain));
  EXPECT_THAT(Domains(*directory_->ListDomainPolicies()),
              ElementsAre("org-a.example"));
}

TEST_F(LdapDomainPolicyTest, BothDirectionsOffIsInvalid) {
  Connect();
  absl::Status status = directory_->PutDomainPolicy({.domain = kDomain});
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr(kDomain));
  EXPECT_FALSE(Get(kDomain).has_value());
  EXPECT_TRUE(absl::IsInvalidArgument(directory_->PutDomainPolicy(
      {.domain = "", .send = SecureMode::kEnforce})));
  EXPECT_TRUE(absl::IsInvalidArgument(directory_->RemoveDomainPolicy("")));
}

TEST_F(LdapDomainPolicyTest, LdapSearchShowsTheEntry) {
  Connect();
  ASSERT_TRUE(directory_
                  ->PutDomainPolicy({.domain = kDomain,
                                     .send = SecureMode::kTesting,
                                     .receive = SecureMode::kEnforce})
                  .ok());
  EXPECT_EQ(Search(DomainsDn(), "(objectClass=dtrustSecureDomain)",
                   {"objectClass", "cn", "dtrustSendSecurity",
                    "dtrustReceiveSecurity"}),
            absl::StrCat("dn: ", DomainDn(kDomain),
                         "\nobjectClass: dtrustSecureDomain\ncn: ", kDomain,
                         "\ndtrustSendSecurity: testing\n"
                         "dtrustReceiveSecurity: enforce\n\n"));
}

// A directory from before the Domain Security lists: it has ou=servers (with
// a server) but no ou=domains. The next start adds ou=domains and keeps the
// rest.
TEST_F(LdapDomainPolicyTest, ConnectAddsDomainsOuToExistingDirectory) {
  ASSERT_TRUE(slapd_
                  ->LdapModify(absl::StrCat(
                      "dn: ", ServersDn(),
                      "\nobjectClass: organizationalUnit\nou: servers\n\n"
                      "dn: cn=mx1.org-b.example,",
                      ServersDn(),
                      "\nobjectClass: dtrustTransportServer\n"
                      "cn: mx1.org-b.example\ndtrustMailDomain: ",
                      kDomain, "\n"))
                  .ok());
  EXPECT_FALSE(slapd_->LdapSearch(DomainsDn(), "(objectClass=*)").ok());
  Connect();
  EXPECT_THAT(Search(DomainsDn(), "(objectClass=organizationalUnit)", {"ou"}),
              HasSubstr("ou: domains"));
  absl::StatusOr<std::optional<ServerRecord>> server =
      directory_->GetServer("mx1.org-b.example");
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(server->has_value());
  EXPECT_THAT((*server)->domains, ElementsAre(kDomain));
  EXPECT_TRUE(directory_
                  ->PutDomainPolicy(
                      {.domain = kDomain, .receive = SecureMode::kEnforce})
                  .ok());
  EXPECT_TRUE(Get(kDomain).has_value());
}

// Entries written by hand or by a newer dtrust: values dtrust does not know
// are read as enforce, never as off.
TEST_F(LdapDomainPolicyTest, UnknownValuesReadAsEnforce) {
  Connect();
  AddByHand("typo.example", "dtrustSendSecurity: enforcd\n");
  AddByHand("off.example",
            "dtrustSendSecurity: off\ndtrustReceiveSecurity: testing\n");
  AddByHand("case.example", "dtrustReceiveSecurity: Testing\n");
  AddByHand("future.example",
            "dtrustSendSecurity: testing\ndtrustReceiveSecurity: strict\n");

  ::testing::internal::CaptureStderr();
  absl::StatusOr<std::vector<DomainPolicy>> all =
      directory_->ListDomainPolicies();
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_THAT(Domains(*all), ElementsAre("case.example", "future.example",
                                         "off.example", "typo.example"));
  EXPECT_EQ((*all)[0].send, SecureMode::kOff);
  EXPECT_EQ((*all)[0].receive, SecureMode::kTesting);
  EXPECT_EQ((*all)[1].send, SecureMode::kTesting);
  EXPECT_EQ((*all)[1].receive, SecureMode::kEnforce);
  EXPECT_EQ((*all)[2].send, SecureMode::kEnforce);
  EXPECT_EQ((*all)[2].receive, SecureMode::kTesting);
  EXPECT_EQ((*all)[3].send, SecureMode::kEnforce);
  EXPECT_EQ((*all)[3].receive, SecureMode::kOff);
  EXPECT_THAT(log,
              AllOf(HasSubstr(DomainDn("typo.example")), HasSubstr("enforcd"),
                    HasSubstr("strict"), HasSubstr(DomainDn("off.example")),
                    Not(HasSubstr("case.example"))));

  std::optional<DomainPolicy> typo = Get("typo.example");
  ASSERT_TRUE(typo.has_value());
  EXPECT_EQ(typo->send, SecureMode::kEnforce);

  // An entry with neither attribute puts its domain on no list.
  AddByHand("bare.example", "description: on no list\n");
  EXPECT_FALSE(Get("bare.example").has_value());
  EXPECT_THAT(Domains(*directory_->ListDomainPolicies()),
              Not(::testing::Contains("bare.example")));
  EXPECT_TRUE(directory_->RemoveDomainPolicy("bare.example").ok());

  // Names are read lower-case, as dtrust stores them.
  AddByHand("Upper.Example", "dtrustSendSecurity: enforce\n");
  std::optional<DomainPolicy> upper = Get("upper.example");
  ASSERT_TRUE(upper.has_value());
  EXPECT_EQ(upper->domain, "upper.example");
}

// Domains are validated by the callers, but the adapter must not rely on it:
// metacharacters are stored literally. Read back, such entries name no DNS
// name and are skipped.
TEST_F(LdapDomainPolicyTest, SpecialCharactersAreEscaped) {
  Connect();
  const std::string odd = "a,b=c+d\"e\\f*(g)";
  const std::string injection = "x)(objectclass=*";
  for (const std::string& domain : {odd, injection}) {
    ASSERT_TRUE(
        directory_
            ->PutDomainPolicy({.domain = domain, .send = SecureMode::kEnforce})
            .ok());
  }
  ASSERT_TRUE(directory_
                  ->PutDomainPolicy(
                      {.domain = kDomain, .receive = SecureMode::kTesting})
                  .ok());
  EXPECT_FALSE(Get(odd).has_value());
  EXPECT_FALSE(Get(injection).has_value());
  EXPECT_FALSE(Get("x").has_value());
  EXPECT_FALSE(Get("*").has_value());
  EXPECT_EQ(Get(kDomain)->receive, SecureMode::kTesting);
  EXPECT_THAT(Domains(*directory_->ListDomainPolicies()), ElementsAre(kDomain));
  EXPECT_THAT(Search(DomainsDn(), "(objectClass=dtrustSecureDomain)", {"cn"}),
              HasSubstr(R"(dn: cn=a\2Cb\3Dc\2Bd\22e\5Cf*(g),ou=domains)"));
  EXPECT_TRUE(directory_->RemoveDomainPolicy(injection).ok());
  EXPECT_TRUE(absl::IsNotFound(directory_->RemoveDomainPolicy("*")));
  EXPECT_THAT(Search(DomainsDn(), "(objectClass=dtrustSecureDomain)", {"cn"}),
              Not(HasSubstr("objectclass")));
}

// Entries other tools wrote (ldapadd): Get finds them by the name the CLI
// uses, List shows that name, and two entries whose names normalize alike
// count as one, in each direction the stricter mode.
TEST_F(LdapDomainPolicyTest, ForeignSpellingsAreFoundAndMerged) {
  Connect();
  AddByHand("org-c.example.", "dtrustSendSecurity: enforce\n");
  AddByHand("ORG-D.Example", "dtrustReceiveSecurity: testing\n");
  AddByHand("org\\2De.example", "dtrustSendSecurity: enforce\n");
  AddByHand("org-g.example",
            "dtrustSendSecurity: testing\ndtrustReceiveSecurity: enforce\n");
  AddByHand("ORG-G.example.", "dtrustSendSecurity: enforce\n");
  ::testing::internal::CaptureStderr();
  AddByHand("org_h.example", "dtrustSendSecurity: enforce\n");
  EXPECT_FALSE(Get("org_h.example").has_value());
  EXPECT_THAT(Domains(*directory_->ListDomainPolicies()),
              ElementsAre("org-c.example", "org-d.example", "org-e.example",
                          "org-g.example"));
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("ignoring Domain Security entry \"cn=org_h.example,"));

  EXPECT_EQ(Get("org-c.example")->send, SecureMode::kEnforce);
  EXPECT_EQ(Get("ORG-C.example.")->domain, "org-c.example");
  EXPECT_EQ(Get("org-d.example")->receive, SecureMode::kTesting);
  EXPECT_EQ(Get("org-e.example")->send, SecureMode::kEnforce);
  const std::optional<DomainPolicy> merged = Get("org-g.example");
  ASSERT_TRUE(merged.has_value());
  EXPECT_EQ(merged->send, SecureMode::kEnforce);
  EXPECT_EQ(merged->receive, SecureMode::kEnforce);
  const absl::StatusOr<std::vector<DomainPolicy>> listed =
      directory_->ListDomainPolicies();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 4u);
  EXPECT_EQ(listed->back().send, SecureMode::kEnforce);
  EXPECT_EQ(listed->back().receive, SecureMode::kEnforce);
  // Reads leave the entries as they were written.
  EXPECT_THAT(Search(DomainsDn(), "(objectClass=dtrustSecureDomain)", {"cn"}),
              AllOf(HasSubstr("cn: org-c.example.\n"),
                    HasSubstr("cn: ORG-G.example.\n")));
}

// What the CLI sets or removes is what every reader then sees, whatever
// spellings other tools wrote: Put replaces them, Remove removes them all.
TEST_F(LdapDomainPolicyTest, WritesReplaceAndRemoveForeignSpellings) {
  Connect();
  AddByHand("org-c.example.", "dtrustSendSecurity: enforce\n");
  AddByHand("ORG-C.Example", "dtrustReceiveSecurity: enforce\n");
  ASSERT_TRUE(directory_
                  ->PutDomainPolicy({.domain = "org-c.example",
                                     .send = SecureMode::kTesting,
                                     .receive = SecureMode::kOff})
                  .ok());
  const std::optional<DomainPolicy> relaxed = Get("org-c.example");
  ASSERT_TRUE(relaxed.has_value());
  EXPECT_EQ(relaxed->send, SecureMode::kTesting);
  EXPECT_EQ(relaxed->receive, SecureMode::kOff);
  // One entry left: cn=ORG-C.Example is cn=org-c.example (cn compares
  // without case), modified in place; the trailing-dot one is gone.
  const std::string left =
      Search(DomainsDn(), "(objectClass=dtrustSecureDomain)", {"cn"});
  EXPECT_EQ(
      std::vector<std::string>(absl::StrSplit(left, "dn: ", absl::SkipEmpty()))
          .size(),
      1u)
      << left;
  EXPECT_THAT(left, Not(HasSubstr("org-c.example.,")));

  AddByHand("org-d.example.", "dtrustSendSecurity: enforce\n");
  AddByHand(" org-d.example", "dtrustReceiveSecurity: testing\n");
  EXPECT_TRUE(directory_->RemoveDomainPolicy("org-d.example").ok());
  EXPECT_FALSE(Get("org-d.example").has_value());
  EXPECT_THAT(Search(DomainsDn(), "(objectClass=dtrustSecureDomain)", {"cn"}),
              Not(HasSubstr("org-d")));
  EXPECT_TRUE(
      absl::IsNotFound(directory_->RemoveDomainPolicy("org-d.example")));
}

// Someone deleted ou=domains under a running dtrustd: an error, not "no
// domain is on any list" for List, and no write goes elsewhere.
TEST_F(LdapDomainPolicyTest, VanishedDomainsOuIsAnError) {
  Connect();
  ASSERT_TRUE(slapd_
                  ->LdapModify(absl::StrCat("dn: ", DomainsDn(),
                                            "\nchangetype: delete\n"))
                  .ok());
  absl::StatusOr<std::vector<DomainPolicy>> all =
      directory_->ListDomainPolicies();
  EXPECT_TRUE(absl::IsInternal(all.status())) << all.status();
  EXPECT_THAT(all.status().message(), HasSubstr("vanished"));
  absl::Status put = directory_->PutDomainPolicy(
      {.domain = kDomain, .send = SecureMode::kEnforce});
  EXPECT_TRUE(absl::IsInternal(put)) << put;
  EXPECT_THAT(put.message(), HasSubstr(DomainsDn()));

  // The next start recreates it.
  Connect();
  EXPECT_TRUE(
      directory_
          ->PutDomainPolicy({.domain = kDomain, .send = SecureMode::kEnforce})
          .ok());
}

// Concurrent first writes of one domain: whoever loses the create replaces.
TEST_F(LdapDomainPolicyTest, ConcurrentPuts) {
  Connect();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const absl::Status status = directory_->PutDomainPolicy(
            {.domain = absl::StrCat("d", i, ".example"),
             .send = t % 2 == 0 ? SecureMode::kEnforce : SecureMode::kTesting,
             .receive = SecureMode::kEnforce});
        if (!status.ok()) {
          ADD_FAILURE() << status;
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  absl::StatusOr<std::vector<DomainPolicy>> all =
      directory_->ListDomainPolicies();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 10u);
  for (const DomainPolicy& policy : *all) {
    EXPECT_EQ(policy.receive, SecureMode::kEnforce) << policy.domain;
    EXPECT_NE(policy.send, SecureMode::kOff) << policy.domain;
  }
}

}  // namespace
}  // namespace dtrust
