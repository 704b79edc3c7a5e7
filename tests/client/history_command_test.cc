// Unit tests of `dtrust history` (client/history_command.cc) with a fake
// dtrustd.
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_dtrustd_client.h"

namespace dtrust::testing {
namespace {

using HistoryCommandTest = FakeDtrustdTest;

TEST_F(HistoryCommandTest, FiltersAndPrintsEvents) {
  v1::HistoryResponse answer;
  v1::AuditEvent* event = answer.add_events();
  event->mutable_time()->set_seconds(1735689600);
  event->set_actor("unix user root (uid 0)");
  event->set_from("unix socket");
  event->set_action("publish");
  event->add_servers("mx1.org-b.example");
  event->set_outcome("ok");
  answer.set_truncated(true);
  fake_->history.answer = answer;

  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const CliRun run = Run({"history", "--server", "MX1.org-b.example", "--since",
                          "7d", "--limit", "5"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  ASSERT_EQ(fake_->history.requests.size(), 1u);
  const v1::HistoryRequest& request = fake_->history.requests[0];
  EXPECT_EQ(request.server(), "mx1.org-b.example");
  EXPECT_EQ(request.limit(), 5u);
  EXPECT_NEAR(request.since().seconds(), now - 7 * 86400, 5);
  EXPECT_EQ(run.out,
            "(older events left out: see --limit)\n"
            "2025-01-01T00:00:00Z  publish  ok\n"
            "  by:      unix user root (uid 0) from unix socket\n"
            "  servers: mx1.org-b.example\n");
}

TEST_F(HistoryCommandTest, JsonAndNoEvents) {
  EXPECT_EQ(Run({"history"}).out, "no events\n");
  EXPECT_EQ(Run({"history", "--json"}).out,
            "{\"events\":[],\"truncated\":false}\n");
  EXPECT_FALSE(fake_->history.requests[0].has_since());
  EXPECT_EQ(fake_->history.requests[0].limit(), 0u);
}

TEST_F(HistoryCommandTest, RejectsBadInputBeforeAnyCall) {
  ExpectRejectedBeforeAnyCall({"history", "x"}, "history takes no arguments");
  ExpectRejectedBeforeAnyCall({"history", "--limit", "0"},
                              "--limit 0: not a number from 1 to 100000");
  ExpectRejectedBeforeAnyCall({"history", "--since", "soon"}, "--since");
  ExpectRejectedBeforeAnyCall({"history", "--domain", "a..b"}, "--domain");
}

}  // namespace
}  // namespace dtrust::testing
