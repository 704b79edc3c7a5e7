// Names in entries other tools wrote (trailing dot, upper case, surrounding
// spaces, U-labels): normalized as the CLI normalizes them or skipped with a
// warning naming the DN, alike for the direct reads (ldap_records.h) and
// the mirror (mirror_entries.h, entry_mapper.h).
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ldap/entry_id.h"
#include "server/ldap/ldap_records.h"
#include "server/ldap/mirror_entries.h"
#include "server/mirror/mirror_index.h"

namespace dtrust {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kServersDn[] = "ou=servers,o=x";
constexpr char kDomainsDn[] = "ou=domains,o=x";

// An entry as LdapConnection reads it: attribute names in lower case.
LdapEntry Entry(const std::string& dn,
                std::map<std::string, std::vector<std::string>> attributes) {
  return LdapEntry{.dn = dn, .attributes = std::move(attributes)};
}

LdapEntry EnforcedDomain(const std::string& dn) {
  return Entry(dn, {{"objectclass", {"dtrustSecureDomain"}},
                    {"dtrustsendsecurity", {"enforce"}}});
}

TEST(NormalizeDirectoryNameTest, AsTheCliAfterDroppingSurroundingSpaces) {
  for (const char* value : {"org-c.example", "org-c.example.", "ORG-C.Example",
                            " org-c.example ", "\torg-c.example.\n"}) {
    EXPECT_EQ(*NormalizeDirectoryName(value, "cn"), "org-c.example") << value;
  }
  for (const char* value : {"org c.example", "bücher.example", "", " . ",
                            "*.example", "org_c.example"}) {
    EXPECT_FALSE(NormalizeDirectoryName(value, "cn").ok()) << value;
  }
}

TEST(ParseDomainEntryTest, ForeignSpellingsAreNormalized) {
  const std::string key = *DnKey(kDomainsDn);
  for (const char* dn :
       {"cn=org-c.example.,ou=domains,o=x", "cn=ORG-C.Example,ou=domains,o=x",
        "cn=\\20org-c.example\\20,ou=domains,o=x",
        "cn=org\\2Dc.example,ou=domains,o=x"}) {
    const std::optional<DomainPolicy> policy =
        ParseDomainEntry(EnforcedDomain(dn), key);
    ASSERT_TRUE(policy.has_value()) << dn;
    EXPECT_EQ(policy->domain, "org-c.example") << dn;
  }
}

TEST(ParseDomainEntryTest, NamesNoQueryCanMatchAreSkippedWithAWarning) {
  const std::string key = *DnKey(kDomainsDn);
  for (const std::string dn :
       {"cn=b\xc3\xbc"
        "cher.example,ou=domains,o=x",
        "cn=org\\20c.example,ou=domains,o=x", "cn=a..example,ou=domains,o=x"}) {
    ::testing::internal::CaptureStderr();
    EXPECT_FALSE(ParseDomainEntry(EnforcedDomain(dn), key).has_value()) << dn;
    EXPECT_THAT(::testing::internal::GetCapturedStderr(),
                AllOf(HasSubstr("WARNING ignoring Domain Security entry"),
                      HasSubstr(",ou=domains,o=x\"")));
  }
}

TEST(ParseServerEntryTest, NameAndMailDomainsAreNormalized) {
  ::testing::internal::CaptureStderr();
  const std::optional<ServerEntry> server =
      ParseServerEntry(Entry("cn=MX.Org-C.Example.,ou=servers,o=x",
                             {{"dtrustmaildomain",
                               {"ORG-C.example.", " org-c.example",
                                "b\xc3\xbc"
                                "cher.example",
                                "Org-D.Example"}}}),
                       *DnKey(kServersDn));
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(server->record.name, "mx.org-c.example");
  EXPECT_THAT(server->record.domains,
              ElementsAre("org-c.example", "org-d.example"));
  EXPECT_THAT(log, AllOf(HasSubstr("cn=MX.Org-C.Example.,ou=servers,o=x"),
                         HasSubstr("ignoring dtrustMailDomain")));
}

TEST(ParseServerEntryTest, InvalidNameIsSkippedWithAWarning) {
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(ParseServerEntry(Entry("cn=mx\\2Corg-c.example,ou=servers,o=x",
                                      {{"dtrustmaildomain", {"a.example"}}}),
                                *DnKey(kServersDn))
                   .has_value());
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("WARNING ignoring transport server entry"));
}

TEST(PinServerNameTest, IsNormalized) {
  const std::string key = *DnKey(kServersDn);
  EXPECT_EQ(PinServerName(
                "dtrustCertSha256=ab,cn=MX.Org-C.Example.,ou=servers,o=x", key),
            "mx.org-c.example");
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(
      PinServerName("dtrustCertSha256=ab,cn=mx_1.example,ou=servers,o=x", key)
          .has_value());
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("ignoring pinned certificate entry"));
}

TEST(MergeDomainPoliciesTest, TheStricterModeWinsInEachDirection) {
  const std::vector<DomainPolicy> merged = MergeDomainPolicies(
      {{.domain = "b.example", .send = SecureMode::kTesting},
       {.domain = "a.example",
        .send = SecureMode::kEnforce,
        .receive = SecureMode::kTesting},
       {.domain = "b.example", .receive = SecureMode::kEnforce},
       {.domain = "a.example", .send = SecureMode::kTesting}});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].domain, "a.example");
  EXPECT_EQ(merged[0].send, SecureMode::kEnforce);
  EXPECT_EQ(merged[0].receive, SecureMode::kTesting);
  EXPECT_EQ(merged[1].domain, "b.example");
  EXPECT_EQ(merged[1].send, SecureMode::kTesting);
  EXPECT_EQ(merged[1].receive, SecureMode::kEnforce);
}

// The mirror indexes what the direct reads return: the normalized names.
TEST(ApplyDtrustEntryTest, MirrorIndexesNormalizedNames) {
  MirrorIndex index;
  const std::string servers_key = *DnKey(kServersDn);
  const std::string domains_key = *DnKey(kDomainsDn);
  ApplyDtrustEntry(EnforcedDomain("cn=ORG-C.example.,ou=domains,o=x"),
                   EntryIdToUuid("1"), servers_key, domains_key, index);
  ApplyDtrustEntry(Entry("cn=MX.Org-C.Example.,ou=servers,o=x",
                         {{"objectclass", {"dtrustTransportServer"}},
                          {"dtrustmaildomain", {"Org-C.Example."}}}),
                   EntryIdToUuid("2"), servers_key, domains_key, index);
  ::testing::internal::CaptureStderr();
  ApplyDtrustEntry(EnforcedDomain("cn=b\xc3\xbc"
                                  "cher.example,ou=domains,o=x"),
                   EntryIdToUuid("3"), servers_key, domains_key, index);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("ignoring Domain Security entry"));

  const std::optional<DomainPolicy> policy =
      index.Read()->GetDomainPolicy("org-c.example");
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ(policy->send, SecureMode::kEnforce);
  const std::vector<ServerRecord> servers =
      index.Read()->FindServers({.domain = "org-c.example"});
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].name, "mx.org-c.example");
  EXPECT_THAT(index.Read()->ListDomainPolicies(), testing::SizeIs(1));
  EXPECT_THAT(index.Read()->FindServers({.domain = "ORG-C.example."}),
              IsEmpty());
}

}  // namespace
}  // namespace dtrust
