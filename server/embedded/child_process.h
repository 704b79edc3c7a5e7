// Starting and reaping supervised child processes (slapd, slapadd).
#ifndef DTRUST_SERVER_EMBEDDED_CHILD_PROCESS_H_
#define DTRUST_SERVER_EMBEDDED_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dtrust {

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] is the absolute program path.
  int output_fd = -1;             // Required; the child's stdout and stderr.
  int inherited_fd = -1;          // If >= 0, passed on as the child's fd 3.
};

// Forks and executes `spec`. The child runs in a new session (no terminal
// signals), with an empty signal mask, stdin from /dev/null, no other
// inherited descriptors, and gets SIGTERM when the *calling thread* exits
// (PR_SET_PDEATHSIG) — call it from a thread that outlives the child.
// Returns the pid; the caller must reap it. Fails (Internal / NotFound)
// with the errno of fork or exec, e.g. when the program does not exist.
// Thread-safe.
absl::StatusOr<pid_t> SpawnChild(const ChildSpec& spec);

// Blocks until child `pid` exits and reaps it; returns its wait status.
absl::StatusOr<int> WaitForChild(pid_t pid);

// Like WaitForChild but leaves the child unreaped (a zombie), so its pid
// cannot be reused while others may still signal it.
absl::Status WaitForExitNoReap(pid_t pid);

// True once child `pid` has exited (it is not reaped).
bool HasExited(pid_t pid);

// "exited with status 1", "killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int wait_status);

}  // namespace dtrust

#endif  // DTRUST_SERVER_EMBEDDED_CHILD_PROCESS_H_
