// The mirror's change feed (docs/watch.md): what each change to the index
// appends, and when a new epoch starts.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/mirror/mirror.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/mirror_test_data.h"

namespace dtrust {
namespace {

using ::dtrust::testing::TestPin;
using ::dtrust::testing::TestUuid;

using ::dtrust::testing::FakeClock;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

class MirrorChangeFeedTest : public ::testing::Test {
 protected:
  // The changes since the last call, as (subject, name).
  std::vector<std::pair<ChangeSubject, std::string>> Drain() {
    const ChangePosition now = mirror_.changes().Current();
    EXPECT_EQ(now.epoch, seen_.epoch) << "a new epoch";
    std::vector<std::pair<ChangeSubject, std::string>> names;
    uint64_t expected = seen_.version;
    const std::optional<std::vector<Change>> changes =
        mirror_.changes().Since(seen_, 1000);
    EXPECT_TRUE(changes.has_value());
    for (const Change& change : changes.value_or(std::vector<Change>{})) {
      EXPECT_EQ(change.version, ++expected) << "versions are consecutive";
      names.emplace_back(change.subject, change.name);
    }
    seen_ = now;
    return names;
  }

  FakeClock clock_;
  Mirror mirror_{MirrorOptions{}, &clock_};
  ChangePosition seen_ = mirror_.changes().Current();
};

constexpr ChangeSubject kServer = ChangeSubject::kServer;
constexpr ChangeSubject kPolicy = ChangeSubject::kDomainPolicy;

TEST_F(MirrorChangeFeedTest, SourceChangesAppendTheNamesTheyTouch) {
  MirrorIndex& index = mirror_.index();
  index.Write()->PutServer(TestUuid(1), "mx1.a.example", {"a.example"});
  index.Write()->PutPin(TestUuid(2), "mx1.a.example", TestPin("cert1"));
  EXPECT_THAT(Drain(), ElementsAre(Pair(kServer, "mx1.a.example"),
                                   Pair(kServer, "mx1.a.example"),
                                   Pair(kServer, "mx1.a.example")));
  // The same content again (a poll that finds nothing new): nothing.
  index.Write()->PutServer(TestUuid(1), "mx1.a.example", {"a.example"});
  index.Write()->PutPin(TestUuid(2), "mx1.a.example", TestPin("cert1"));
  EXPECT_THAT(Drain(), IsEmpty());

  PinRecord changed = TestPin("cert1");
  changed.not_after = absl::FromUnixSeconds(1'900'000'000);
  index.Write()->PutPin(TestUuid(2), "mx1.a.example", changed);
  EXPECT_THAT(Drain(), ElementsAre(Pair(kServer, "mx1.a.example")));

  index.Write()->PutServer(TestUuid(1), "mx2.a.example",
                           {"a.example"});  // modrdn
  EXPECT_THAT(Drain(), ElementsAre(Pair(kServer, "mx1.a.example"),
                                   Pair(kServer, "mx2.a.example")));
  index.Write()->Remove(TestUuid(2));
  index.Write()->Remove(TestUuid(1));
  EXPECT_THAT(Drain(), ElementsAre(Pair(kServer, "mx2.a.example"),
                                   Pair(kServer, "mx2.a.example")));
}

TEST_F(MirrorChangeFeedTest, DomainPoliciesAndLocalWrites) {
  MirrorIndex& index = mirror_.index();
  index.Write()->PutDomainPolicy(
      TestUuid(3),
      DomainPolicy{"a.example", SecureMode::kEnforce, SecureMode::kOff});
  index.Write()->PutDomainPolicy(
      TestUuid(3),
      DomainPolicy{"a.example", SecureMode::kEnforce, SecureMode::kOff});
  index.Write()->PutDomainPolicyByName(
      DomainPolicy{"b.example", SecureMode::kOff, SecureMode::kEnforce});
  index.Write()->RemoveDomainPolicyByName("a.example");
  EXPECT_THAT(Drain(), ElementsAre(Pair(kPolicy, "a.example"),
                                   Pair(kPolicy, "b.example"),
                                   Pair(kPolicy, "a.example")));

  index.Write()->AddServerDomains("mx.b.example", {"b.example"});
  index.Write()->PutPinByName("mx.b.example", TestPin("cert2"));
  index.Write()->RemovePinByName("mx.b.example", Sha256Digest::Of("cert2"));
  index.Write()->RemoveServerByName("mx.b.example");
  EXPECT_THAT(
      Drain(),
      ElementsAre(Pair(kServer, "mx.b.example"), Pair(kServer, "mx.b.example"),
                  Pair(kServer, "mx.b.example"), Pair(kServer, "mx.b.example"),
                  Pair(kServer, "mx.b.example")));
}

TEST_F(MirrorChangeFeedTest, AReloadSweepAppendsWhatItRemoves) {
  MirrorIndex& index = mirror_.index();
  index.Write()->PutServer(TestUuid(1), "mx1.a.example", {"a.example"});
  index.Write()->PutServer(TestUuid(2), "mx2.a.example", {"a.example"});
  Drain();
  index.Write()->BeginReload();
  index.Write()->MarkPresent(TestUuid(1));
  EXPECT_EQ(index.Write()->EndReload(), 1u);
  EXPECT_THAT(Drain(), ElementsAre(Pair(kServer, "mx2.a.example")));
}

TEST_F(MirrorChangeFeedTest, TheFirstLoadStartsANewEpoch) {
  mirror_.index().Write()->PutServer(TestUuid(1), "mx1.a.example",
                                     {"a.example"});
  const ChangePosition before = mirror_.changes().Current();
  EXPECT_EQ(before.version, 2u);  // Created, then given its domains.
  mirror_.MarkCurrent(clock_.Now(), /*live=*/true);
  const ChangePosition loaded = mirror_.changes().Current();
  EXPECT_NE(loaded.epoch, before.epoch);
  EXPECT_NE(loaded.epoch, 0u);
  EXPECT_EQ(loaded.version, 0u);
  EXPECT_EQ(mirror_.changes().Since(before, 10), std::nullopt);
  // Later loads (each poll, each sign of life) keep it.
  mirror_.MarkCurrent(clock_.Now(), /*live=*/true);
  EXPECT_EQ(mirror_.changes().Current(), loaded);
}

TEST(MirrorChangeFeedBoundTest, TheLogKeepsAtMostItsCapacity) {
  FakeClock clock;
  MirrorOptions options;
  options.change_log_capacity = 2;
  Mirror mirror(options, &clock);
  const ChangePosition start = mirror.changes().Current();
  for (const char* name : {"a.example", "b.example", "c.example"}) {
    mirror.index().Write()->PutDomainPolicyByName(
        DomainPolicy{name, SecureMode::kEnforce, SecureMode::kOff});
  }
  EXPECT_EQ(mirror.changes().Since(start, 10), std::nullopt);
  EXPECT_EQ(mirror.changes().Since({start.epoch, 1}, 10)->size(), 2u);
}

}  // namespace
}  // namespace dtrust
