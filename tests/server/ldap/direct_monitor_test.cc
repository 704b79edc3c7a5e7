#include "server/ldap/direct_monitor.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/slapd_fixture.h"

namespace dtrust {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kStarted = absl::FromUnixSeconds(1700000000);

// A probe answering `result`, counting its calls.
class FakeProbe {
 public:
  DirectMonitor::Probe probe() {
    return [this] {
      ++calls_;
      absl::MutexLock lock(&mu_);
      return result_;
    };
  }
  void Set(absl::Status result) {
    absl::MutexLock lock(&mu_);
    result_ = std::move(result);
  }
  int calls() const { return calls_; }

 private:
  std::atomic<int> calls_{0};
  absl::Mutex mu_;
  absl::Status result_ ABSL_GUARDED_BY(mu_);
};

class DirectMonitorTest : public ::testing::Test {
 protected:
  static absl::Duration monitor_probe_interval() {
    return DirectMonitor::kDefaultProbeInterval;
  }
  FakeProbe probe_;
  testing::FakeClock clock_{kStarted + absl::Minutes(1)};
  DirectMonitor monitor_{probe_.probe(), [] { return "ldap://ldap1/"; },
                         kStarted, &clock_};
};

TEST_F(DirectMonitorTest, ServingWhileTheProbeSucceeds) {
  const DirectoryStatus status = monitor_.Status();
  EXPECT_EQ(probe_.calls(), 1);
  EXPECT_EQ(status.mode, SyncMode::kNone);
  EXPECT_TRUE(status.serving);
  EXPECT_TRUE(status.connected);
  EXPECT_EQ(status.uri, "ldap://ldap1/");
  EXPECT_THAT(status.last_error, IsEmpty());
  EXPECT_EQ(status.snapshot_age, std::nullopt);
  EXPECT_EQ(status.last_current, std::nullopt);
  EXPECT_EQ(status.initial_load, std::nullopt);
  EXPECT_EQ(status.servers, 0u);
  EXPECT_EQ(status.started, kStarted);
}

TEST_F(DirectMonitorTest, ProbesAtMostOncePerInterval) {
  monitor_.Status();
  clock_.Set(clock_.Now() + absl::Milliseconds(999));
  monitor_.Status();
  EXPECT_EQ(probe_.calls(), 1);
  clock_.Set(clock_.Now() + absl::Milliseconds(1));
  monitor_.Status();
  EXPECT_EQ(probe_.calls(), 2);
}

TEST_F(DirectMonitorTest, AFailedProbeIsNotServingWithItsError) {
  probe_.Set(
      absl::UnavailableError("ldap://ldap1/: Can't contact LDAP server"));
  DirectoryStatus status = monitor_.Status();
  EXPECT_FALSE(status.serving);
  EXPECT_FALSE(status.connected);
  EXPECT_EQ(status.last_error, "ldap://ldap1/: Can't contact LDAP server");

  // Cached until the interval has passed, then current again.
  probe_.Set(absl::OkStatus());
  EXPECT_FALSE(monitor_.Status().serving);
  clock_.Set(clock_.Now() + absl::Seconds(1));
  status = monitor_.Status();
  EXPECT_TRUE(status.serving);
  EXPECT_THAT(status.last_error, IsEmpty());
}

TEST_F(DirectMonitorTest, TellsListenersOfChangesAndWhenToProbeAgain) {
  int notified = 0;
  const int id = monitor_.Subscribe([&] { ++notified; });
  DirectoryStatus status = monitor_.Status();  // The first probe.
  EXPECT_EQ(notified, 1);
  EXPECT_EQ(status.recheck_at, clock_.Now() + monitor_probe_interval());
  clock_.Set(clock_.Now() + absl::Seconds(2));
  monitor_.Status();  // Serving still: nothing to tell.
  EXPECT_EQ(notified, 1);
  probe_.Set(absl::UnavailableError("ldap://ldap1/: can't contact"));
  clock_.Set(clock_.Now() + absl::Seconds(2));
  status = monitor_.Status();
  EXPECT_FALSE(status.serving);
  EXPECT_EQ(notified, 2);
  monitor_.Unsubscribe(id);
  probe_.Set(absl::OkStatus());
  clock_.Set(clock_.Now() + absl::Seconds(2));
  EXPECT_TRUE(monitor_.Status().serving);
  EXPECT_EQ(notified, 2);
}

TEST_F(DirectMonitorTest, SnapshotAgeNeverProbes) {
  EXPECT_EQ(monitor_.SnapshotAge(), std::nullopt);
  EXPECT_EQ(probe_.calls(), 0);
}

TEST(DirectMonitorConcurrencyTest, CallersDuringAProbeShareItsResult) {
  std::atomic<int> calls{0};
  absl::Notification entered;
  absl::Notification release;
  testing::FakeClock clock(kStarted);
  DirectMonitor monitor(
      [&] {
        if (++calls == 1) {
          entered.Notify();
          release.WaitForNotification();
        }
        return absl::OkStatus();
      },
      [] { return "ldap://ldap1/"; }, kStarted, &clock);

  std::thread first([&] { EXPECT_TRUE(monitor.Status().serving); });
  entered.WaitForNotification();
  std::thread second([&] { EXPECT_TRUE(monitor.Status().serving); });
  absl::SleepFor(absl::Milliseconds(50));  // Let `second` arrive.
  release.Notify();
  first.join();
  second.join();
  EXPECT_EQ(calls, 1);
}

// LdapProbe over a real slapd: serving while it runs, not once it stopped.
TEST(LdapProbeTest, FollowsTheDirectory) {
  auto slapd = testing::SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  LdapOptions options;
  options.uris = {(*slapd)->uri()};
  options.base_dn = (*slapd)->suffix();
  options.bind_dn = (*slapd)->bind_dn();
  options.bind_password = (*slapd)->bind_password();
  options.timeout = absl::Seconds(2);
  auto directory = LdapDirectory::Connect(options);
  ASSERT_TRUE(directory.ok()) << directory.status();
  const DirectMonitor::Probe probe = LdapProbe(directory->get());

  EXPECT_TRUE(probe().ok());
  ASSERT_TRUE((*slapd)->Stop().ok());
  const absl::Time start = absl::Now();
  const absl::Status down = probe();
  EXPECT_TRUE(absl::IsUnavailable(down)) << down;
  EXPECT_THAT(down.message(), HasSubstr((*slapd)->uri()));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  ASSERT_TRUE((*slapd)->Restart().ok());
  EXPECT_TRUE(probe().ok());
}

}  // namespace
}  // namespace dtrust
