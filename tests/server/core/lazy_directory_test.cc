#include "server/core/lazy_directory.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_directory.h"

namespace dtrust {
namespace {

using ::testing::HasSubstr;

class LazyDirectoryTest : public ::testing::Test {
 protected:
  LazyDirectoryTest()
      : lazy_(
            [this]() -> absl::StatusOr<std::unique_ptr<Directory>> {
              ++attempts_;
              if (!reachable_) {
                return absl::UnavailableError("ldap://a/: connection refused");
              }
              return std::make_unique<testing::FakeDirectory>();
            },
            &clock_, absl::Seconds(5)) {}

  testing::FakeClock clock_;
  bool reachable_ = false;
  int attempts_ = 0;
  LazyDirectory lazy_;
};

TEST_F(LazyDirectoryTest, ConnectsWhenReachableRetryingAtMostEveryInterval) {
  absl::Status status = lazy_.CreateServer("mx1.b.example", {"b.example"});
  EXPECT_TRUE(absl::IsUnavailable(status));
  EXPECT_THAT(std::string(status.message()), HasSubstr("connection refused"));
  EXPECT_EQ(attempts_, 1);

  reachable_ = true;
  // Within the interval: no new attempt, the last error at once.
  status = lazy_.CreateServer("mx1.b.example", {"b.example"});
  EXPECT_TRUE(absl::IsUnavailable(status));
  EXPECT_EQ(attempts_, 1);

  clock_.Set(clock_.Now() + absl::Seconds(5));
  ASSERT_TRUE(lazy_.CreateServer("mx1.b.example", {"b.example"}).ok());
  EXPECT_EQ(attempts_, 2);
  absl::StatusOr<std::optional<ServerRecord>> server =
      lazy_.GetServer("mx1.b.example");
  ASSERT_TRUE(server.ok());
  EXPECT_TRUE(server->has_value());
  EXPECT_EQ(attempts_, 2);  // Connected once, for good.
}

}  // namespace
}  // namespace dtrust
