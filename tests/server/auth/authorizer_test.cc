#include "server/auth/authorizer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_grant_store.h"

namespace dtrust {
namespace {

using ::testing::HasSubstr;

// uid 1000 "alice" in groups "mail" and "staff"; uid 1001 "bob", no groups.
class FakeAccounts : public UnixAccounts {
 public:
  std::string UserName(uid_t uid) const override {
    return uid == 1000 ? "alice" : uid == 1001 ? "bob" : "";
  }
  bool InGroup(uid_t uid, gid_t, absl::string_view group) const override {
    return uid == 1000 && (group == "mail" || group == "staff");
  }
};

const Identity kAlice = Identity::UnixUser(1000, 1000, "unix:pid 1");
const Identity kBob = Identity::UnixUser(1001, 1001, "unix:pid 2");
const Identity kRoot = Identity::UnixUser(0, 0, "unix:pid 3");
const Identity kAnonymous = Identity::Anonymous("ipv4:127.0.0.1:1");
const Sha256Digest kClientCert = Sha256Digest::Of("client certificate");
const Identity kClient = Identity::Certificate(kClientCert, "ipv4:127.0.0.1:2");

Grant MakeGrant(GrantSubject subject, Role role,
                std::vector<std::string> scopes = {}) {
  return Grant{.subject = std::move(subject),
               .role = role,
               .scopes = std::move(scopes),
               .label = "test grant"};
}

class AuthorizerTest : public ::testing::Test {
 protected:
  AuthorizerTest()
      : cache_(&store_, &clock_, absl::Seconds(1), absl::Minutes(5)) {}

  Authorizer Make(Role anonymous = Role::kReader) {
    return Authorizer({.anonymous_role = anonymous,
                       .admin_uids = {0},
                       .admin_certificates = {}},
                      &cache_, &accounts_);
  }

  testing::FakeGrantStore store_;
  testing::FakeClock clock_;
  FakeAccounts accounts_;
  GrantCache cache_;
};

TEST_F(AuthorizerTest, RootIsAdminAndOthersReadOnly) {
  const Authorizer authorizer = Make();
  EXPECT_TRUE(authorizer.Require(kRoot, Role::kAdmin, "SetDomainPolicy").ok());
  absl::StatusOr<Authority> bob =
      authorizer.Require(kBob, Role::kPublisher, "Publish");
  EXPECT_EQ(bob.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(bob.status().message(),
              HasSubstr("unix user bob (uid 1001) (no grant) has role reader: "
                        "Publish needs the publisher role"));
  EXPECT_TRUE(authorizer.Require(kBob, Role::kReader, "Verify").ok());
  absl::StatusOr<Authority> anonymous =
      authorizer.Require(kAnonymous, Role::kPublisher, "Publish");
  EXPECT_EQ(anonymous.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthorizerTest, AnonymousNoneRefusesReads) {
  const Authorizer authorizer = Make(Role::kNone);
  EXPECT_EQ(
      authorizer.Require(kAnonymous, Role::kReader, "Verify").status().code(),
      absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(
      authorizer.Require(kClient, Role::kReader, "Verify").status().code(),
      absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(
      store_.PutGrant(MakeGrant({.cert_sha256 = kClientCert}, Role::kReader))
          .ok());
  clock_.Set(clock_.Now() + absl::Seconds(1));  // The cache's refresh.
  EXPECT_TRUE(authorizer.Require(kClient, Role::kReader, "Verify").ok());
}

TEST_F(AuthorizerTest, BootstrapCertificatesAreAdmin) {
  const Authorizer authorizer({.admin_certificates = {kClientCert}}, &cache_,
                              &accounts_);
  absl::StatusOr<Authority> client =
      authorizer.Require(kClient, Role::kAdmin, "SetDomainPolicy");
  ASSERT_TRUE(client.ok());
  EXPECT_THAT(client->who, HasSubstr(kClientCert.ToColonHex()));
  // An identity with another digest is not.
  const Identity other =
      Identity::Certificate(Sha256Digest::Of("other"), "ipv4:127.0.0.1:3");
  EXPECT_FALSE(authorizer.Require(other, Role::kAdmin, "x").ok());
}

TEST_F(AuthorizerTest, GrantsByCertificateUserAndGroup) {
  const Authorizer authorizer = Make();
  ASSERT_TRUE(
      store_.PutGrant(MakeGrant({.cert_sha256 = kClientCert}, Role::kAdmin))
          .ok());
  ASSERT_TRUE(store_
                  .PutGrant(MakeGrant(
                      {.kind = GrantSubject::Kind::kUnixUser, .name = "bob"},
                      Role::kPublisher))
                  .ok());
  ASSERT_TRUE(store_
                  .PutGrant(MakeGrant(
                      {.kind = GrantSubject::Kind::kUnixGroup, .name = "mail"},
                      Role::kAdmin))
                  .ok());
  EXPECT_TRUE(authorizer.Require(kClient, Role::kAdmin, "x").ok());
  EXPECT_TRUE(authorizer.Require(kBob, Role::kPublisher, "x").ok());
  EXPECT_FALSE(authorizer.Require(kBob, Role::kAdmin, "x").ok());
  absl::StatusOr<Authority> alice =
      authorizer.Require(kAlice, Role::kAdmin, "x");
  ASSERT_TRUE(alice.ok());
  EXPECT_THAT(alice->who, HasSubstr("through group mail"));
  // A grant for a user name matches no certificate, and the other way round.
  EXPECT_FALSE(authorizer.Require(kAnonymous, Role::kPublisher, "x").ok());
}

TEST_F(AuthorizerTest, TheHighestMatchingGrantWins) {
  const Authorizer authorizer = Make();
  ASSERT_TRUE(store_
                  .PutGrant(MakeGrant(
                      {.kind = GrantSubject::Kind::kUnixUser, .name = "alice"},
                      Role::kPublisher, {"org-b.example"}))
                  .ok());
  ASSERT_TRUE(store_
                  .PutGrant(MakeGrant(
                      {.kind = GrantSubject::Kind::kUnixGroup, .name = "staff"},
                      Role::kPublisher))
                  .ok());
  absl::StatusOr<Authority> alice =
      authorizer.Require(kAlice, Role::kPublisher, "x");
  ASSERT_TRUE(alice.ok());
  EXPECT_TRUE(alice->scopes.empty());  // The unlimited grant.
}

TEST_F(AuthorizerTest, ScopesLimitServersAndDomains) {
  Authority scoped{.role = Role::kPublisher,
                   .scopes = {"org-b.example"},
                   .who = "unix user bob"};
  EXPECT_TRUE(Authorizer::CheckScopes(scoped, "mx1.org-b.example",
                                      {"org-b.example", "sub.org-b.example"})
                  .ok());
  EXPECT_TRUE(Authorizer::CheckScopes(scoped, "MX1.ORG-B.EXAMPLE.", {}).ok());
  absl::Status server =
      Authorizer::CheckScopes(scoped, "mx1.org-c.example", {"org-b.example"});
  EXPECT_EQ(server.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(server.message(), HasSubstr("server mx1.org-c.example"));
  absl::Status domain =
      Authorizer::CheckScopes(scoped, "mx1.org-b.example", {"org-c.example"});
  EXPECT_EQ(domain.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(domain.message(), HasSubstr("mail domain org-c.example"));
  // A suffix that is not a label boundary is outside.
  EXPECT_FALSE(
      Authorizer::CheckScopes(scoped, "mx1.evilorg-b.example", {}).ok());
  EXPECT_EQ(Authorizer::CheckScopes(scoped, "bad name", {}).code(),
            absl::StatusCode::kInvalidArgument);
  scoped.scopes.clear();
  EXPECT_TRUE(Authorizer::CheckScopes(scoped, "mx1.org-c.example", {}).ok());
}

TEST_F(AuthorizerTest, ReadersNeedNoGrantLookup) {
  const Authorizer authorizer = Make();
  EXPECT_TRUE(authorizer.Require(kBob, Role::kReader, "Verify").ok());
  EXPECT_EQ(store_.reads(), 0);
}

TEST_F(AuthorizerTest, GrantsAreCachedAndRevocationsSeenAfterTheRefresh) {
  const Authorizer authorizer = Make();
  ASSERT_TRUE(store_
                  .PutGrant(MakeGrant(
                      {.kind = GrantSubject::Kind::kUnixUser, .name = "bob"},
                      Role::kPublisher))
                  .ok());
  EXPECT_TRUE(authorizer.Require(kBob, Role::kPublisher, "x").ok());
  store_.Clear();
  EXPECT_TRUE(authorizer.Require(kBob, Role::kPublisher, "x").ok());
  EXPECT_EQ(store_.reads(), 1);
  clock_.Set(clock_.Now() + absl::Seconds(1));
  EXPECT_FALSE(authorizer.Require(kBob, Role::kPublisher, "x").ok());
  EXPECT_EQ(store_.reads(), 2);
}

TEST_F(AuthorizerTest, AnUnreadableStoreServesTheLastCopyThenFails) {
  const Authorizer authorizer = Make();
  ASSERT_TRUE(store_
                  .PutGrant(MakeGrant(
                      {.kind = GrantSubject::Kind::kUnixUser, .name = "bob"},
                      Role::kPublisher))
                  .ok());
  EXPECT_TRUE(authorizer.Require(kBob, Role::kPublisher, "x").ok());
  store_.set_available(false);
  clock_.Set(clock_.Now() + absl::Minutes(4));
  EXPECT_TRUE(authorizer.Require(kBob, Role::kPublisher, "x").ok());
  clock_.Set(clock_.Now() + absl::Minutes(2));
  absl::StatusOr<Authority> late =
      authorizer.Require(kBob, Role::kPublisher, "x");
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(late.status().message(), HasSubstr("directory down"));
}

TEST_F(AuthorizerTest, NoCopyAtAllIsUnavailableNotAnonymous) {
  const Authorizer authorizer = Make();
  store_.set_available(false);
  EXPECT_EQ(authorizer.Require(kBob, Role::kPublisher, "x").status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace dtrust
