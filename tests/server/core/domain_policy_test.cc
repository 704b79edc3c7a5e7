// TrustService's management of the Domain Security lists.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/trust_service.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_directory.h"

namespace dtrust {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class DomainPolicyTest : public ::testing::Test {
 protected:
  testing::FakeDirectory directory_;
  testing::FakeClock clock_;
  TrustService service_{&directory_, &clock_};
};

TEST_F(DomainPolicyTest, AddChangeAndRemoveDirections) {
  auto added = service_.SetDomainPolicy({.domain = "Org-B.example.",
                                         .send = SecureMode::kEnforce,
                                         .receive = SecureMode::kTesting});
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->domain, "org-b.example");
  EXPECT_EQ(added->send, SecureMode::kEnforce);
  EXPECT_EQ(added->receive, SecureMode::kTesting);

  // Changing one direction keeps the other.
  auto changed = service_.SetDomainPolicy(
      {.domain = "org-b.example", .receive = SecureMode::kEnforce});
  EXPECT_EQ(changed->send, SecureMode::kEnforce);
  EXPECT_EQ(changed->receive, SecureMode::kEnforce);

  auto send_off = service_.SetDomainPolicy(
      {.domain = "org-b.example", .send = SecureMode::kOff});
  EXPECT_EQ(send_off->send, SecureMode::kOff);
  EXPECT_THAT(*service_.ListDomainPolicies(""), SizeIs(1));

  auto all_off = service_.SetDomainPolicy(
      {.domain = "org-b.example", .receive = SecureMode::kOff});
  ASSERT_TRUE(all_off.ok());
  EXPECT_THAT(*service_.ListDomainPolicies(""), IsEmpty());
  EXPECT_THAT(*service_.ListDomainPolicies("org-b.example"), IsEmpty());
}

TEST_F(DomainPolicyTest, BadInputIsRefusedAndWritesNothing) {
  for (const char* domain : {"*.org-b.example", "org b", "a,b=c", ""}) {
    auto result = service_.SetDomainPolicy(
        {.domain = domain, .send = SecureMode::kEnforce});
    EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << domain;
  }
  EXPECT_THAT(
      service_.SetDomainPolicy({.domain = "org-b.example"}).status().message(),
      HasSubstr("send and/or receive"));
  EXPECT_EQ(directory_.writes(), 0);
  EXPECT_TRUE(
      absl::IsNotFound(service_
                           .SetDomainPolicy({.domain = "org-b.example",
                                             .send = SecureMode::kOff,
                                             .receive = SecureMode::kOff})
                           .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      service_.ListDomainPolicies("bad domain").status()));
}

TEST_F(DomainPolicyTest, DirectoryDownIsUnavailable) {
  directory_.SetUnavailable(true);
  EXPECT_TRUE(
      absl::IsUnavailable(service_
                              .SetDomainPolicy({.domain = "org-b.example",
                                                .send = SecureMode::kEnforce})
                              .status()));
  EXPECT_TRUE(absl::IsUnavailable(service_.ListDomainPolicies("").status()));
}

}  // namespace
}  // namespace dtrust
