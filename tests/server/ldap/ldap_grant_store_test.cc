// LdapGrantStore against a real slapd.
#include "server/ldap/ldap_grant_store.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/ldap/ldap_directory_fixture.h"

namespace dtrust::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Grant Publisher(std::string user, std::vector<std::string> scopes) {
  return Grant{.subject = {.kind = GrantSubject::Kind::kUnixUser,
                           .name = std::move(user)},
               .role = Role::kPublisher,
               .scopes = std::move(scopes),
               .label = "mail team",
               .granted_by = "unix user root (uid 0)",
               .granted = absl::FromUnixSeconds(1800000000)};
}

class LdapGrantStoreTest : public LdapDirectoryFixture {};

TEST_F(LdapGrantStoreTest, PutListReplaceRemove) {
  Connect();  // Creates ou=clients.
  LdapGrantStore store(Options());
  absl::StatusOr<std::vector<Grant>> grants = store.ListGrants();
  ASSERT_TRUE(grants.ok()) << grants.status();
  EXPECT_THAT(*grants, IsEmpty());

  Grant certificate{.subject = {.cert_sha256 = Sha256Digest::Of("c")},
                    .role = Role::kAdmin,
                    .granted = absl::FromUnixSeconds(1800000000)};
  ASSERT_TRUE(store.PutGrant(certificate).ok());
  ASSERT_TRUE(
      store.PutGrant(Publisher("alice", {"a.example", "b.example"})).ok());
  grants = store.ListGrants();
  ASSERT_TRUE(grants.ok()) << grants.status();
  ASSERT_EQ(grants->size(), 2u);
  for (const Grant& grant : *grants) {
    if (grant.subject.kind == GrantSubject::Kind::kCertificate) {
      EXPECT_EQ(grant.subject.cert_sha256, Sha256Digest::Of("c"));
      EXPECT_EQ(grant.role, Role::kAdmin);
      EXPECT_THAT(grant.scopes, IsEmpty());
    } else {
      EXPECT_EQ(grant.subject.name, "alice");
      EXPECT_THAT(grant.scopes, ElementsAre("a.example", "b.example"));
      EXPECT_EQ(grant.label, "mail team");
      EXPECT_EQ(grant.granted_by, "unix user root (uid 0)");
      EXPECT_EQ(grant.granted, absl::FromUnixSeconds(1800000000));
    }
  }

  // Replacing drops what the new grant does not have.
  Grant replaced = Publisher("alice", {});
  replaced.role = Role::kReader;
  replaced.label.clear();
  ASSERT_TRUE(store.PutGrant(replaced).ok());
  grants = store.ListGrants();
  ASSERT_TRUE(grants.ok());
  ASSERT_EQ(grants->size(), 2u);
  for (const Grant& grant : *grants) {
    if (grant.subject.kind != GrantSubject::Kind::kUnixUser) continue;
    EXPECT_EQ(grant.role, Role::kReader);
    EXPECT_THAT(grant.scopes, IsEmpty());
    EXPECT_EQ(grant.label, "");
  }

  ASSERT_TRUE(store.RemoveGrant(certificate.subject).ok());
  absl::Status again = store.RemoveGrant(certificate.subject);
  EXPECT_TRUE(absl::IsNotFound(again)) << again;
  EXPECT_THAT(again.message(), HasSubstr("has no grant"));
  grants = store.ListGrants();
  ASSERT_TRUE(grants.ok());
  EXPECT_EQ(grants->size(), 1u);
}

TEST_F(LdapGrantStoreTest, MalformedEntriesGiveNothing) {
  Connect();
  LdapGrantStore store(Options());
  ASSERT_TRUE(store.PutGrant(Publisher("alice", {})).ok());
  const std::string clients = absl::StrCat("ou=clients,", slapd_->suffix());
  for (const auto& [subject, role] :
       std::vector<std::pair<std::string, std::string>>{
           {"user:bob", "superuser"},
           {"cn:carol", "admin"},
           {"user:dave", "none"}}) {
    ASSERT_TRUE(slapd_
                    ->LdapModify(absl::StrCat(
                        "dn: dtrustClientSubject=", subject, ",", clients,
                        "\nchangetype: add\nobjectClass: dtrustClientGrant\n"
                        "dtrustClientSubject: ",
                        subject, "\ndtrustClientRole: ", role, "\n"))
                    .ok());
  }
  absl::StatusOr<std::vector<Grant>> grants = store.ListGrants();
  ASSERT_TRUE(grants.ok()) << grants.status();
  ASSERT_EQ(grants->size(), 1u);
  EXPECT_EQ((*grants)[0].subject.name, "alice");
}

TEST_F(LdapGrantStoreTest, ADownDirectoryIsUnavailableNotEmpty) {
  Connect();
  LdapOptions options = Options();
  options.uris = {"ldap://127.0.0.1:1"};
  LdapGrantStore store(options);
  absl::StatusOr<std::vector<Grant>> grants = store.ListGrants();
  EXPECT_TRUE(absl::IsUnavailable(grants.status())) << grants.status();
}

}  // namespace
}  // namespace dtrust::testing
