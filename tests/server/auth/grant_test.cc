#include "server/auth/grant.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dtrust {
namespace {

using ::testing::HasSubstr;

TEST(GrantSubjectTest, KeysRoundTrip) {
  GrantSubject certificate;
  certificate.cert_sha256 = Sha256Digest::Of("client");
  GrantSubject user{.kind = GrantSubject::Kind::kUnixUser, .name = "alice"};
  GrantSubject group{.kind = GrantSubject::Kind::kUnixGroup,
                     .name = "mail-admins"};
  for (const GrantSubject& subject : {certificate, user, group}) {
    absl::StatusOr<GrantSubject> parsed = GrantSubject::FromKey(subject.Key());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, subject);
  }
  EXPECT_EQ(user.Key(), "user:alice");
  EXPECT_EQ(group.Key(), "group:mail-admins");
  EXPECT_EQ(certificate.Key(), "sha256:" + Sha256Digest::Of("client").ToHex());
  EXPECT_EQ(user.Describe(), "unix user alice");
}

TEST(GrantSubjectTest, BadKeysAreRefused) {
  EXPECT_THAT(GrantSubject::FromKey("cn:alice").status().message(),
              HasSubstr("does not start with"));
  EXPECT_THAT(GrantSubject::FromKey("sha256:abcd").status().message(),
              HasSubstr("grant subject"));
  EXPECT_FALSE(GrantSubject::FromKey("user:").ok());
  EXPECT_FALSE(GrantSubject::FromKey("user:-rf").ok());
  EXPECT_FALSE(GrantSubject::FromKey("user:a b").ok());
  EXPECT_FALSE(GrantSubject::FromKey("group:a\nb").ok());
  EXPECT_TRUE(GrantSubject::FromKey("user:host$").ok());
}

TEST(RoleTest, NamesRoundTrip) {
  for (Role role :
       {Role::kNone, Role::kReader, Role::kPublisher, Role::kAdmin}) {
    absl::StatusOr<Role> parsed = ParseRole(RoleName(role), "--role");
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, role);
  }
  EXPECT_THAT(ParseRole("root", "--role").status().message(),
              HasSubstr("--role: \"root\" is not a role"));
}

}  // namespace
}  // namespace dtrust
