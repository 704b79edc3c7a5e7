// Child processes and small file helpers for the real-server test fixtures
// (SlapdFixture, ReplicatedSlapdPair). All functions are thread-safe.
#ifndef DTRUST_TESTS_TESTING_RUN_COMMAND_H_
#define DTRUST_TESTS_TESTING_RUN_COMMAND_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/base/owned_fd.h"

namespace dtrust::testing {

// Forks and execs argv[0] (an absolute path) with the given standard
// descriptors and no others, and this process's environment or, if `env` is
// given, exactly those "NAME=value" entries. The child gets SIGKILL when the
// calling thread exits (PR_SET_PDEATHSIG). The caller must reap it
// (WaitForExit).
absl::StatusOr<pid_t> SpawnProcess(
    const std::vector<std::string>& argv, int stdin_fd, int stdout_fd,
    int stderr_fd, const std::optional<std::vector<std::string>>& env = {});

// Waits up to `timeout` for child `pid` to exit and reaps it; its wait
// status, or nullopt if it still runs. A pid that is no longer our child
// counts as exited with status 0.
std::optional<int> WaitForExit(pid_t pid, absl::Duration timeout);

// SIGTERM (and SIGCONT, in case it is stopped), then SIGKILL if it has not
// exited after `grace`; reaps it. Refuses pid <= 0. Internal error if it
// survives SIGKILL for seconds.
absl::Status TerminateProcess(pid_t pid, absl::Duration grace);

// "exited with 1", "killed by signal 9".
std::string DescribeExit(int wait_status);

// A finished command.
struct CommandResult {
  int status = 0;  // Wait status.
  std::string out;
  std::string err;
  bool ok() const;
  // The exit status, or -1 if it did not exit normally.
  int exit_code() const;
  // "<command> exited with 1: <stderr><stdout>".
  std::string Describe(absl::string_view command) const;
};

// Runs `argv` to completion (SIGKILLed after 30 s: DeadlineExceeded) with
// stdin from `stdin_path` ("" for /dev/null), capturing its output through
// temporary files in `scratch_dir`. argv[0] without a '/' is looked up in
// PATH. The command gets this process's environment changed by
// `env_changes`: "NAME=value" sets NAME, a bare "NAME" removes it. A non-zero
// exit is not an error here: see CommandResult::ok().
absl::StatusOr<CommandResult> RunCommand(
    const std::string& scratch_dir, const std::vector<std::string>& argv,
    const std::string& stdin_path = "",
    const std::vector<std::string>& env_changes = {});

// Creates or truncates `path` and writes `contents`.
absl::Status WriteTestFile(const std::string& path, absl::string_view contents);

// The file's contents, or "" if it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

// A TCP port on 127.0.0.1 that was free a moment ago.
absl::StatusOr<int> FreeLoopbackPort();

// RFC 3986 percent-encoding of everything but unreserved characters (for
// ldapi:// URIs).
std::string PercentEncode(absl::string_view text);

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_RUN_COMMAND_H_
