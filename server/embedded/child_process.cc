#include "server/embedded/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace dtrust {
namespace {

// Where the child keeps descriptors while it rearranges 0..3.
constexpr int kScratchFd = 10;
constexpr int kMaxFallbackFd = 65536;

// Closes descriptors `first`..`last` (inclusive; -1: all from `first` on,
// which without close_range(2) means up to `max_fd`). Async-signal-safe.
void CloseRange(int first, int last, int max_fd) {
  if (last >= 0 && first > last) return;
  const unsigned int upper = last < 0 ? ~0U : static_cast<unsigned int>(last);
  if (close_range(static_cast<unsigned int>(first), upper, 0) == 0) return;
  for (int fd = first; fd <= (last < 0 ? max_fd : last); ++fd) close(fd);
}

// Runs in the forked child: only async-signal-safe calls. Reports a failure
// by writing errno to `error_fd` (close-on-exec) and exiting.
[[noreturn]] void ExecChild(char* const* argv, int output_fd, int inherited_fd,
                            int error_fd, pid_t parent, int max_fd) {
  auto fail = [&error_fd]() {
    int error = errno;
    ssize_t ignored = write(error_fd, &error, sizeof(error));
    (void)ignored;
    _exit(127);
  };
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) fail();
  if (getppid() != parent) _exit(127);  // Orphaned before the prctl.
  if (setsid() < 0) fail();
  sigset_t empty;
  sigemptyset(&empty);
  if (sigprocmask(SIG_SETMASK, &empty, nullptr) != 0) fail();

  const int moved_error_fd = fcntl(error_fd, F_DUPFD_CLOEXEC, kScratchFd);
  if (moved_error_fd < 0) fail();
  error_fd = moved_error_fd;
  const int out = fcntl(output_fd, F_DUPFD, kScratchFd);
  const int inherited =
      inherited_fd >= 0 ? fcntl(inherited_fd, F_DUPFD, kScratchFd) : -1;
  const int null_fd = open("/dev/null", O_RDONLY);
  if (out < 0 || (inherited_fd >= 0 && inherited < 0) || null_fd < 0) {
    fail();
  }
  if ((null_fd != 0 && dup2(null_fd, 0) < 0) || dup2(out, 1) < 0 ||
      dup2(out, 2) < 0 || (inherited >= 0 && dup2(inherited, 3) < 0)) {
    fail();
  }
  const int first_unused = inherited >= 0 ? 4 : 3;
  CloseRange(first_unused, error_fd - 1, max_fd);
  CloseRange(error_fd + 1, -1, max_fd);
  execve(argv[0], argv, environ);
  fail();
  __builtin_unreachable();
}

}  // namespace

absl::StatusOr<pid_t> SpawnChild(const ChildSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty() || spec.argv[0][0] != '/') {
    return absl::InvalidArgumentError(
        "SpawnChild needs an absolute program path in argv[0]");
  }
  std::vector<char*> argv;
  for (const std::string& arg : spec.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  const long open_max = sysconf(_SC_OPEN_MAX);
  const int max_fd = static_cast<int>(
      std::clamp<long>(open_max, kScratchFd + 4, kMaxFallbackFd));

  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, "pipe2 for child start-up");
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    ExecChild(argv.data(), spec.output_fd, spec.inherited_fd, error_pipe[1],
              parent, max_fd);
  }
  const int fork_errno = errno;
  close(error_pipe[1]);
  if (pid < 0) {
    close(error_pipe[0]);
    return absl::ErrnoToStatus(fork_errno,
                               absl::StrCat("fork for ", spec.argv[0]));
  }
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(error_pipe[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(error_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    (void)WaitForChild(pid);
    return absl::ErrnoToStatus(child_errno,
                               absl::StrCat("cannot execute ", spec.argv[0]));
  }
  return pid;
}

absl::StatusOr<int> WaitForChild(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::ErrnoToStatus(errno, absl::StrCat("waitpid(", pid, ")"));
    }
  }
  return status;
}

absl::Status WaitForExitNoReap(pid_t pid) {
  siginfo_t info;
  while (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0) {
    if (errno != EINTR) {
      return absl::ErrnoToStatus(errno, absl::StrCat("waitid(", pid, ")"));
    }
  }
  return absl::OkStatus();
}

bool HasExited(pid_t pid) {
  siginfo_t info;
  info.si_pid = 0;
  if (waitid(P_PID, static_cast<id_t>(pid), &info,
             WEXITED | WNOHANG | WNOWAIT) < 0) {
    return errno == ECHILD;  // Already reaped (or never ours).
  }
  return info.si_pid == pid;
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    const int signal = WTERMSIG(wait_status);
    const char* name = sigdescr_np(signal);
    return absl::StrCat("killed by signal ", signal, " (",
                        name != nullptr ? name : "unknown", ")");
  }
  return absl::StrCat("wait status ", wait_status);
}

}  // namespace dtrust
