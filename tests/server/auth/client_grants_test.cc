#include "server/auth/client_grants.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_grant_store.h"

namespace dtrust {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ClientGrantsTest : public ::testing::Test {
 protected:
  ClientGrantsTest()
      : clock_(absl::FromUnixSeconds(1800000000) + absl::Milliseconds(250)),
        cache_(&store_, &clock_, absl::Hours(1), absl::Hours(1)),
        grants_(&store_, &cache_, &clock_) {}

  static Grant UserGrant(Role role, std::vector<std::string> scopes = {}) {
    return Grant{
        .subject = {.kind = GrantSubject::Kind::kUnixUser, .name = "alice"},
        .role = role,
        .scopes = std::move(scopes)};
  }

  testing::FakeGrantStore store_;
  testing::FakeClock clock_;
  GrantCache cache_;
  ClientGrants grants_;
};

TEST_F(ClientGrantsTest, PutNormalizesAndRecordsWhoAndWhen) {
  absl::StatusOr<Grant> put = grants_.Put(
      UserGrant(Role::kPublisher, {"B.example.", "a.example", "b.example"}),
      "unix user root (uid 0)");
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_THAT(put->scopes, ElementsAre("a.example", "b.example"));
  EXPECT_EQ(put->granted_by, "unix user root (uid 0)");
  EXPECT_EQ(put->granted, absl::FromUnixSeconds(1800000000));
  absl::StatusOr<std::vector<Grant>> listed = grants_.List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_THAT((*listed)[0].scopes, ElementsAre("a.example", "b.example"));
}

TEST_F(ClientGrantsTest, BadGrantsAreRefusedAndNothingIsWritten) {
  Grant long_label = UserGrant(Role::kReader);
  long_label.label = std::string(65, 'x');
  Grant control = UserGrant(Role::kReader);
  control.label = "a\nforged log line";
  Grant bad_name = UserGrant(Role::kReader);
  bad_name.subject.name = "../etc";
  for (const auto& [grant, message] :
       std::vector<std::pair<Grant, std::string>>{
           {UserGrant(Role::kNone), "role"},
           {UserGrant(Role::kAdmin, {"a.example"}), "only publisher"},
           {UserGrant(Role::kPublisher, {"not a name"}), "scope"},
           {long_label, "longer than 64"},
           {control, "control character"},
           {bad_name, "unix name"}}) {
    absl::StatusOr<Grant> put = grants_.Put(grant, "root");
    EXPECT_TRUE(absl::IsInvalidArgument(put.status())) << message;
    EXPECT_THAT(put.status().message(), HasSubstr(message));
  }
  EXPECT_TRUE(grants_.List()->empty());
}

TEST_F(ClientGrantsTest, WritesApplyAtOnceHere) {
  const Authorizer authorizer({}, &cache_, UnixAccounts::System());
  ASSERT_TRUE(cache_.Get().ok());  // Cached for an hour from now on.
  Grant grant{.subject = {.cert_sha256 = Sha256Digest::Of("c")},
              .role = Role::kAdmin};
  ASSERT_TRUE(grants_.Put(grant, "root").ok());
  const Identity client = Identity::Certificate(Sha256Digest::Of("c"), "p");
  EXPECT_TRUE(authorizer.Require(client, Role::kAdmin, "x").ok());
  ASSERT_TRUE(grants_.Revoke(grant.subject).ok());
  EXPECT_FALSE(authorizer.Require(client, Role::kAdmin, "x").ok());
  EXPECT_TRUE(absl::IsNotFound(grants_.Revoke(grant.subject).status()));
}

}  // namespace
}  // namespace dtrust
