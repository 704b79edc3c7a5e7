#include "server/auth/audit.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_audit_store.h"
#include "tests/testing/fake_clock.h"

namespace dtrust {
namespace {

TEST(AuditTextTest, EscapesAndCuts) {
  EXPECT_EQ(AuditText("mx1.example"), "mx1.example");
  EXPECT_EQ(AuditText("a\nb\x1b"), "a\\nb\\x1b");
  EXPECT_EQ(AuditText(std::string(300, 'x'), 10), "xxxxxxxxxx...");
}

TEST(AuditJsonTest, OneObjectWithEveryField) {
  const AuditRecord record{.time = absl::FromUnixSeconds(1800000000),
                           .actor = "unix user \"root\"",
                           .from = "unix:pid 1",
                           .action = "Publish",
                           .servers = {"mx1.example"},
                           .domains = {"a.example", "b.example"},
                           .detail = "x -> y",
                           .outcome = "ok: published"};
  EXPECT_EQ(AuditJson(record),
            "{\"time\":\"2027-01-15T08:00:00Z\",\"actor\":\"unix user "
            "\\\"root\\\"\",\"from\":\"unix:pid 1\",\"action\":\"Publish\","
            "\"servers\":[\"mx1.example\"],\"domains\":[\"a.example\","
            "\"b.example\"],\"detail\":\"x -> y\",\"outcome\":\"ok: "
            "published\"}");
}

TEST(AuditorTest, StoresEveryWriteAndLimitsRefusals) {
  testing::FakeAuditStore store;
  testing::FakeClock clock(absl::FromUnixSeconds(1800000000));
  Auditor auditor(&store, &clock);
  auditor.Record({.action = "Publish", .outcome = "ok: published"});
  ASSERT_EQ(store.records().size(), 1u);
  EXPECT_EQ(store.records()[0].time, absl::FromUnixSeconds(1800000000));
  for (int i = 0; i < 100; ++i) {
    auditor.Record({.action = "Publish", .outcome = "refused: x"});
  }
  EXPECT_EQ(store.records().size(), 1u + Auditor::kRefusalsPerSecond);
  // Successful writes are never dropped.
  auditor.Record({.action = "Unpublish", .outcome = "ok: unpublished"});
  EXPECT_EQ(store.records().back().action, "Unpublish");
  clock.Set(clock.Now() + absl::Seconds(1));
  auditor.Record({.action = "Publish", .outcome = "refused: y"});
  EXPECT_EQ(store.records().back().outcome, "refused: y");
}

}  // namespace
}  // namespace dtrust
