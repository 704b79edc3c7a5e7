#include "tests/testing/run_command.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "server/base/status_macros.h"

extern char** environ;

namespace dtrust::testing {
namespace {

constexpr absl::Duration kCommandTimeout = absl::Seconds(30);
constexpr absl::Duration kKillTimeout = absl::Seconds(5);

std::string ErrnoMessage(absl::string_view what) {
  return absl::StrCat(what, ": ", std::strerror(errno));
}

// A new empty file named from `prefix` + random suffix, opened for writing.
absl::StatusOr<std::pair<std::string, int>> MakeTempFile(
    const std::string& prefix) {
  std::string path = prefix + "XXXXXX";
  const int fd = mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return absl::InternalError(ErrnoMessage("mkostemp " + path));
  return std::make_pair(path, fd);
}

std::string EnvName(absl::string_view entry) {
  return std::string(entry.substr(0, entry.find('=')));
}

// This process's environment with `changes` ("NAME=value" sets, a bare
// "NAME" removes) applied.
std::vector<std::string> ChangedEnvironment(
    const std::vector<std::string>& changes) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string name = EnvName(*entry);
    const bool changed = std::any_of(
        changes.begin(), changes.end(),
        [&name](const std::string& c) { return EnvName(c) == name; });
    if (!changed) env.push_back(*entry);
  }
  for (const std::string& change : changes) {
    if (absl::StrContains(change, '=')) env.push_back(change);
  }
  return env;
}

// `program` if it names a path, else the first executable of that name in
// PATH; NotFound if there is none.
absl::StatusOr<std::string> FindProgram(const std::string& program) {
  if (absl::StrContains(program, '/')) return program;
  const char* path = std::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path == nullptr ? "/usr/bin:/bin" : path, ':')) {
    const std::string candidate = absl::StrCat(dir, "/", program);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(absl::StrCat(program, " is not in PATH"));
}

}  // namespace

absl::StatusOr<pid_t> SpawnProcess(
    const std::vector<std::string>& argv, int stdin_fd, int stdout_fd,
    int stderr_fd, const std::optional<std::vector<std::string>>& env) {
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  std::vector<char*> env_entries;
  if (env.has_value()) {
    for (const std::string& entry : *env) {
      env_entries.push_back(const_cast<char*>(entry.c_str()));
    }
    env_entries.push_back(nullptr);
  }
  char** const child_env = env.has_value() ? env_entries.data() : environ;
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(ErrnoMessage("fork"));
  if (pid == 0) {
    // Async-signal-safe calls only from here on.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent ||
        dup2(stdin_fd, 0) < 0 || dup2(stdout_fd, 1) < 0 ||
        dup2(stderr_fd, 2) < 0) {
      _exit(127);
    }
    syscall(SYS_close_range, 3U, ~0U, 0U);
    execve(args[0], args.data(), child_env);
    _exit(127);
  }
  return pid;
}

std::optional<int> WaitForExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return 0;  // Already reaped elsewhere.
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

absl::Status TerminateProcess(pid_t pid, absl::Duration grace) {
  if (pid <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("refusing to signal pid ", pid));
  }
  kill(pid, SIGTERM);
  kill(pid, SIGCONT);  // In case a test stopped it.
  std::optional<int> status = WaitForExit(pid, grace);
  if (!status.has_value()) {
    kill(pid, SIGKILL);
    status = WaitForExit(pid, kKillTimeout);
  }
  if (!status.has_value()) {
    return absl::InternalError(absl::StrCat("process ", pid, " does not die"));
  }
  return absl::OkStatus();
}

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exited with ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(wait_status));
  }
  return absl::StrCat("ended with wait status ", wait_status);
}

bool CommandResult::ok() const {
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int CommandResult::exit_code() const {
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string CommandResult::Describe(absl::string_view command) const {
  return absl::StrCat(command, " ", DescribeExit(status), ": ", err, out);
}

absl::StatusOr<CommandResult> RunCommand(
    const std::string& scratch_dir, const std::vector<std::string>& argv,
    const std::string& stdin_path,
    const std::vector<std::string>& env_changes) {
  std::vector<std::string> resolved_argv = argv;
  DTRUST_ASSIGN_OR_RETURN(resolved_argv[0], FindProgram(argv[0]));
  DTRUST_ASSIGN_OR_RETURN(auto out, MakeTempFile(scratch_dir + "/stdout-"));
  OwnedFd out_fd(out.second);
  DTRUST_ASSIGN_OR_RETURN(auto err, MakeTempFile(scratch_dir + "/stderr-"));
  OwnedFd err_fd(err.second);
  const std::string input = stdin_path.empty() ? "/dev/null" : stdin_path;
  OwnedFd in_fd(open(input.c_str(), O_RDONLY | O_CLOEXEC));
  if (in_fd.get() < 0) return absl::InternalError(ErrnoMessage(input));
  DTRUST_ASSIGN_OR_RETURN(
      pid_t pid, SpawnProcess(resolved_argv, in_fd.get(), out_fd.get(),
                              err_fd.get(), ChangedEnvironment(env_changes)));
  std::optional<int> status = WaitForExit(pid, kCommandTimeout);
  if (!status.has_value()) {
    kill(pid, SIGKILL);
    status = WaitForExit(pid, kKillTimeout);
  }
  CommandResult result;
  result.status = status.value_or(0);
  result.out = ReadFileOrEmpty(out.first);
  result.err = ReadFileOrEmpty(err.first);
  unlink(out.first.c_str());
  unlink(err.first.c_str());
  if (!status.has_value()) {
    return absl::DeadlineExceededError(absl::StrCat(
        argv[0], " did not finish in ", absl::FormatDuration(kCommandTimeout)));
  }
  return result;
}

absl::Status WriteTestFile(const std::string& path,
                           absl::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

absl::StatusOr<int> FreeLoopbackPort() {
  OwnedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return absl::InternalError(ErrnoMessage("socket"));
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof(address);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &size) !=
          0) {
    return absl::InternalError(ErrnoMessage("bind 127.0.0.1:0"));
  }
  return ntohs(address.sin_port);
}

std::string PercentEncode(absl::string_view text) {
  std::string encoded;
  for (char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      encoded.push_back(c);
    } else {
      absl::StrAppend(&encoded, "%",
                      absl::AsciiStrToUpper(absl::StrCat(absl::Hex(
                          static_cast<unsigned char>(c), absl::kZeroPad2))));
    }
  }
  return encoded;
}

}  // namespace dtrust::testing
