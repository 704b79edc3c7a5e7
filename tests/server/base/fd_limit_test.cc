#include "server/base/fd_limit.h"

#include <sys/resource.h>

#include "gtest/gtest.h"

namespace dtrust {
namespace {

TEST(FdLimitTest, RaisesTheSoftLimitToTheHardOne) {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "no hard limit";
  // Lowered first (allowed without privileges), so that there is something
  // to raise.
  const rlim_t hard = limit.rlim_max;
  limit.rlim_cur = hard > 512 ? 512 : hard;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);

  absl::StatusOr<uint64_t> raised = RaiseOpenFileLimit();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(*raised, hard);
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(limit.rlim_cur, hard);
  // Already at the hard limit: unchanged.
  EXPECT_EQ(RaiseOpenFileLimit().value_or(0), hard);
}

}  // namespace
}  // namespace dtrust
