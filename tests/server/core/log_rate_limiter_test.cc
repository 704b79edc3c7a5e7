#include "server/core/log_rate_limiter.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_metrics.h"

namespace dtrust {
namespace {

using ::dtrust::testing::FakeClock;

void Advance(FakeClock& clock, absl::Duration by) {
  clock.Set(clock.Now() + by);
}

TEST(LogRateLimiterTest, PassesUpToTheRateAndCountsTheRest) {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  LogRateLimiter limiter(3, &clock);
  std::string suffix = "stale";
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Allow(&suffix)) << i;
    EXPECT_EQ(suffix, "");
  }
  EXPECT_FALSE(limiter.Allow(&suffix));
  EXPECT_FALSE(limiter.Allow(&suffix));
  Advance(clock, absl::Milliseconds(999));
  EXPECT_FALSE(limiter.Allow(&suffix));  // Still the same second.

  Advance(clock, absl::Milliseconds(1));
  ASSERT_TRUE(limiter.Allow(&suffix));
  EXPECT_EQ(suffix,
            " (3 more such lines suppressed before this one, over 3/s)");
  EXPECT_TRUE(limiter.Allow(&suffix));
  EXPECT_EQ(suffix, "");  // Reported once.
}

TEST(LogRateLimiterTest, ReportsEachSuppressedLineToTheMetrics) {
  testing::FakeMetrics metrics;
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  LogRateLimiter limiter(1, &clock);
  std::string suffix;
  EXPECT_TRUE(limiter.Allow(&suffix));
  EXPECT_FALSE(limiter.Allow(&suffix));
  EXPECT_FALSE(limiter.Allow(&suffix));
  EXPECT_EQ(metrics.Count("suppressed"), 2);
}

TEST(LogRateLimiterTest, SaysOneLineInTheSingular) {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  LogRateLimiter limiter(1, &clock);
  std::string suffix;
  EXPECT_TRUE(limiter.Allow(&suffix));
  EXPECT_FALSE(limiter.Allow(&suffix));
  Advance(clock, absl::Seconds(5));
  EXPECT_TRUE(limiter.Allow(&suffix));
  EXPECT_EQ(suffix, " (1 more such line suppressed before this one, over 1/s)");
}

TEST(LogRateLimiterTest, LogIfAllowedWritesTheLinesThatPassWithTheCount) {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  LogRateLimiter limiter(2, &clock);
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(limiter.LogIfAllowed(LogLevel::kWarning, "refused ", 1));
  EXPECT_TRUE(limiter.LogIfAllowed(LogLevel::kWarning, "refused ", 2));
  EXPECT_FALSE(limiter.LogIfAllowed(LogLevel::kWarning, "refused ", 3));
  Advance(clock, absl::Seconds(1));
  EXPECT_TRUE(limiter.LogIfAllowed(LogLevel::kWarning, "refused ", 4));
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, ::testing::MatchesRegex(
                       "[^\n]* WARNING refused 1\n"
                       "[^\n]* WARNING refused 2\n"
                       "[^\n]* WARNING refused 4 \\(1 more such line "
                       "suppressed before this one, over 2/s\\)\n"));
}

}  // namespace
}  // namespace dtrust
