#include "server/core/directory_status.h"

#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_directory_monitor.h"

namespace dtrust {
namespace {

TEST(AwaitServingTest, ReturnsAtTheChangeThatMakesItServe) {
  testing::FakeDirectoryMonitor monitor;
  std::thread loader([&] {
    absl::SleepFor(absl::Milliseconds(100));
    monitor.SetServing(false);  // A change, still not serving.
    absl::SleepFor(absl::Milliseconds(100));
    monitor.SetServing(true);
  });
  const absl::Time start = absl::Now();
  EXPECT_TRUE(AwaitServing(monitor, absl::Seconds(10)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  loader.join();
  EXPECT_TRUE(AwaitServing(monitor, absl::ZeroDuration()));  // At once.
}

TEST(AwaitServingTest, GivesUpAtTheTimeout) {
  testing::FakeDirectoryMonitor monitor;
  const absl::Time start = absl::Now();
  EXPECT_FALSE(AwaitServing(monitor, absl::Milliseconds(300)));
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Seconds(3));
}

}  // namespace
}  // namespace dtrust
