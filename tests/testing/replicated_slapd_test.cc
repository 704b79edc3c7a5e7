// ReplicatedSlapdPair: two real slapds in multi-provider replication.
#include "tests/testing/replicated_slapd.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;

// How long a change may take to reach the other provider.
constexpr absl::Duration kReplicationBound = absl::Seconds(2);

class ReplicatedSlapdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ReplicatedSlapdPair>> pair =
        ReplicatedSlapdPair::Start();
    ASSERT_TRUE(pair.ok()) << pair.status();
    pair_ = *std::move(pair);
  }

  std::string ServerDn(const std::string& name) {
    return absl::StrCat("cn=", name, ",", pair_->suffix());
  }

  // Publishes a transport server entry (dtrust schema) on provider `i`.
  absl::Status AddServer(int i, const std::string& name) {
    return pair_->provider(i).LdapModify(absl::StrCat(
        "dn: ", ServerDn(name), "\n", "objectClass: dtrustTransportServer\n",
        "cn: ", name, "\ndtrustMailDomain: example.org\n"));
  }

  absl::Status DeleteServer(int i, const std::string& name) {
    return pair_->provider(i).LdapModify(
        absl::StrCat("dn: ", ServerDn(name), "\nchangetype: delete\n"));
  }

  bool HasServer(int i, const std::string& name) {
    absl::StatusOr<std::string> found = pair_->provider(i).LdapSearch(
        pair_->suffix(), absl::StrCat("(cn=", name, ")"), {"1.1"});
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() && absl::StrContains(*found, ServerDn(name));
  }

  // Whether provider `i` comes to have (or, `present` false, to lack) the
  // server within kReplicationBound.
  bool Converges(int i, const std::string& name, bool present) {
    const absl::Time deadline = absl::Now() + kReplicationBound;
    while (HasServer(i, name) != present) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  }

  std::unique_ptr<ReplicatedSlapdPair> pair_;
};

TEST_F(ReplicatedSlapdTest, BothProvidersServeTheSameDirectory) {
  EXPECT_NE(pair_->provider(0).uri(), pair_->provider(1).uri());
  EXPECT_NE(pair_->provider(0).ldapi_uri(), pair_->provider(1).ldapi_uri());
  EXPECT_EQ(pair_->bind_dn(), "cn=dtrustd,dc=example,dc=org");
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    EXPECT_GT(pair_->provider(i).pid(), 0);
    absl::StatusOr<std::string> entries =
        pair_->provider(i).LdapSearch(pair_->suffix(), "(objectClass=*)", {});
    ASSERT_TRUE(entries.ok()) << entries.status();
    EXPECT_THAT(*entries, HasSubstr("dn: dc=example,dc=org\n"));
    EXPECT_THAT(*entries, HasSubstr("dn: cn=dtrustd,dc=example,dc=org\n"));
    // Start's probe entry is gone again.
    EXPECT_THAT(*entries, ::testing::Not(HasSubstr("replication-probe")));
  }
}

TEST_F(ReplicatedSlapdTest, AddsAndDeletesReplicateBothWays) {
  ASSERT_TRUE(AddServer(0, "mx0.example.org").ok());
  EXPECT_TRUE(Converges(1, "mx0.example.org", true));
  ASSERT_TRUE(AddServer(1, "mx1.example.org").ok());
  EXPECT_TRUE(Converges(0, "mx1.example.org", true));

  ASSERT_TRUE(DeleteServer(1, "mx0.example.org").ok());
  EXPECT_TRUE(Converges(0, "mx0.example.org", false));
  ASSERT_TRUE(DeleteServer(0, "mx1.example.org").ok());
  EXPECT_TRUE(Converges(1, "mx1.example.org", false));
}

TEST_F(ReplicatedSlapdTest, StoppedProviderCatchesUpAfterRestart) {
  ASSERT_TRUE(AddServer(0, "old.example.org").ok());
  ASSERT_TRUE(Converges(1, "old.example.org", true));

  const absl::Time stopping = absl::Now();
  ASSERT_TRUE(pair_->Stop(1).ok());
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(1));
  EXPECT_EQ(pair_->provider(1).pid(), -1);
  EXPECT_FALSE(pair_->provider(1).LdapSearch(pair_->suffix(), "(cn=*)").ok());

  // Provider 0 takes writes alone.
  for (int n = 0; n < 3; ++n) {
    ASSERT_TRUE(AddServer(0, absl::StrCat("new", n, ".example.org")).ok());
  }
  ASSERT_TRUE(DeleteServer(0, "old.example.org").ok());

  ASSERT_TRUE(pair_->Restart(1).ok());
  for (int n = 0; n < 3; ++n) {
    EXPECT_TRUE(Converges(1, absl::StrCat("new", n, ".example.org"), true))
        << n;
  }
  EXPECT_TRUE(Converges(1, "old.example.org", false));
  // And provider 0 follows provider 1 again.
  ASSERT_TRUE(AddServer(1, "back.example.org").ok());
  EXPECT_TRUE(Converges(0, "back.example.org", true));
}

}  // namespace
}  // namespace dtrust::testing
