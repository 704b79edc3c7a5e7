#include "server/mirror/change_log.h"

#include <atomic>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dtrust {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

TEST(ChangeLogTest, VersionsAreConsecutiveWithinAnEpoch) {
  ChangeLog log(/*capacity=*/8, /*epoch=*/7);
  EXPECT_EQ(log.Current(), (ChangePosition{7, 0}));
  EXPECT_EQ(log.Append(ChangeSubject::kServer, "mx1.example.org"), 1u);
  EXPECT_EQ(log.Append(ChangeSubject::kDomainPolicy, "example.org"), 2u);
  EXPECT_EQ(log.Current(), (ChangePosition{7, 2}));
}

TEST(ChangeLogTest, SinceReturnsTheChangesAfterAPosition) {
  ChangeLog log(8, 7);
  log.Append(ChangeSubject::kServer, "a");
  log.Append(ChangeSubject::kServer, "b");
  log.Append(ChangeSubject::kDomainPolicy, "c");
  EXPECT_THAT(
      log.Since({7, 1}, 100),
      Optional(ElementsAre(Change{2, ChangeSubject::kServer, "b"},
                           Change{3, ChangeSubject::kDomainPolicy, "c"})));
  EXPECT_THAT(log.Since({7, 3}, 100), Optional(ElementsAre()));
  EXPECT_THAT(log.Since({7, 0}, 1),
              Optional(ElementsAre(Change{1, ChangeSubject::kServer, "a"})));
}

TEST(ChangeLogTest, KeepsOnlyTheLastCapacityChanges) {
  ChangeLog log(2, 7);
  for (const char* name : {"a", "b", "c", "d"}) {
    log.Append(ChangeSubject::kServer, name);
  }
  EXPECT_EQ(log.Since({7, 1}, 100), std::nullopt);  // Needs version 2: gone.
  EXPECT_THAT(log.Since({7, 2}, 100),
              Optional(ElementsAre(Change{3, ChangeSubject::kServer, "c"},
                                   Change{4, ChangeSubject::kServer, "d"})));
}

TEST(ChangeLogTest, AnotherEpochOrAFutureVersionNeedsASnapshot) {
  ChangeLog log(8, 7);
  log.Append(ChangeSubject::kServer, "a");
  EXPECT_EQ(log.Since({6, 0}, 100), std::nullopt);
  EXPECT_EQ(log.Since({7, 5}, 100), std::nullopt);
  log.StartEpoch(9);
  EXPECT_EQ(log.Current(), (ChangePosition{9, 0}));
  EXPECT_EQ(log.Since({7, 1}, 100), std::nullopt);
  EXPECT_THAT(log.Since({9, 0}, 100), Optional(ElementsAre()));
}

TEST(ChangeLogTest, NotifiesSubscribersOfChangesAndEpochsUntilUnsubscribed) {
  ChangeLog log(8, 7);
  std::atomic<int> notified = 0;
  const int id = log.Subscribe([&] { ++notified; });
  log.Append(ChangeSubject::kServer, "a");
  log.StartEpoch(8);
  EXPECT_EQ(notified, 2);
  log.Unsubscribe(id);
  log.Append(ChangeSubject::kServer, "b");
  EXPECT_EQ(notified, 2);
}

}  // namespace
}  // namespace dtrust
