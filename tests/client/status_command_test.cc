// Unit tests of `dtrust status` (client/status_command.cc) with a fake
// dtrustd.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_dtrustd_client.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using StatusCommandTest = FakeDtrustdTest;

v1::ServiceStatus MirrorStatus() {
  v1::ServiceStatus status;
  status.set_serving(true);
  status.set_sync_mode(v1::SYNC_MODE_REFRESH_AND_PERSIST);
  status.set_directory_uri("ldap://127.0.0.1:389");
  status.set_connected(true);
  status.mutable_snapshot_age()->set_nanos(250000000);
  status.set_servers(3);
  status.set_pins(4);
  return status;
}

TEST_F(StatusCommandTest, ServingAsText) {
  fake_->status.answer = MirrorStatus();
  const CliRun run = Run({"status"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  EXPECT_EQ(fake_->status.requests.size(), 1u);
  EXPECT_THAT(run.out, StartsWith("serving:         yes\n"
                                  "sync mode:       refresh-and-persist\n"
                                  "directory:       ldap://127.0.0.1:389\n"
                                  "connected:       yes\n"
                                  "snapshot age:    250ms\n"));
  EXPECT_THAT(run.out, HasSubstr("servers:         3\npins:            4\n"));
  EXPECT_THAT(run.out, HasSubstr("last error:      -\n"));
}

TEST_F(StatusCommandTest, NotServingIsExitCode3AndJsonHasNulls) {
  v1::ServiceStatus status;
  status.set_sync_mode(v1::SYNC_MODE_NONE);
  status.set_last_error("cannot reach the directory");
  fake_->status.answer = status;
  const CliRun run = Run({"status", "--json"});
  EXPECT_EQ(run.code, cli::ExitCode::kUnavailable) << run.err;
  EXPECT_THAT(run.out,
              StartsWith("{\"serving\":false,\"sync_mode\":\"none\","));
  EXPECT_THAT(run.out, HasSubstr("\"last_error\":\"cannot reach the "
                                 "directory\",\"servers\":null,"));
}

TEST_F(StatusCommandTest, UnreachableDtrustdIsExitCode3) {
  fake_->status.answer = absl::UnavailableError("dtrustd at unix:x: down");
  const CliRun run = Run({"status"});
  EXPECT_EQ(run.code, cli::ExitCode::kUnavailable);
  EXPECT_EQ(run.err, "dtrust: dtrustd at unix:x: down\n");
}

TEST_F(StatusCommandTest, RejectsArgumentsBeforeAnyCall) {
  ExpectRejectedBeforeAnyCall({"status", "extra"},
                              "status takes no arguments, got extra");
}

}  // namespace
}  // namespace dtrust::testing
