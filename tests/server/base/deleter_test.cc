#include "server/base/deleter.h"

#include <memory>

#include "gtest/gtest.h"

namespace dtrust {
namespace {

int freed = 0;
void CountingFree(int* value) {
  freed += *value;
  delete value;
}
// A release function with a result, as many C libraries have.
int CountingFreeWithResult(int* value) {
  CountingFree(value);
  return 1;
}

TEST(DeleterTest, CallsTheFunctionOnceForANonNullPointer) {
  freed = 0;
  { std::unique_ptr<int, Deleter<CountingFree>> owned(new int(3)); }
  EXPECT_EQ(freed, 3);
  { std::unique_ptr<int, Deleter<CountingFree>> empty; }
  EXPECT_EQ(freed, 3);
}

TEST(DeleterTest, IgnoresTheResultAndKeepsThePointerSmall) {
  freed = 0;
  using Owned = std::unique_ptr<int, Deleter<CountingFreeWithResult>>;
  static_assert(sizeof(Owned) == sizeof(int*));
  Owned owned(new int(5));
  owned.reset(new int(7));
  EXPECT_EQ(freed, 5);
  owned.reset();
  EXPECT_EQ(freed, 12);
}

}  // namespace
}  // namespace dtrust
