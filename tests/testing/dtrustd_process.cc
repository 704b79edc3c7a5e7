#include "tests/testing/dtrustd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/base/status_macros.h"

namespace dtrust::testing {
namespace {

constexpr char kDtrustdPath[] = DTRUST_BINARY_DIR "/server/dtrustd";
constexpr char kReadyLine[] = "dtrustd ready: serving on";
constexpr absl::Duration kReadyTimeout = absl::Seconds(30);
constexpr absl::Duration kStopTimeout = absl::Seconds(10);
constexpr absl::Duration kPollInterval = absl::Milliseconds(10);

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::StatusOr<std::string> MakeTempDir() {
  char pattern[] = "/tmp/dtrustd-test-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return ErrnoError("mkdtemp");
  return std::string(pattern);
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return absl::StrCat("exit status ", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) return absl::StrCat("signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

}  // namespace

absl::StatusOr<std::unique_ptr<DtrustdProcess>> DtrustdProcess::Start(
    const std::vector<std::string>& extra_args, const std::string& binary) {
  DTRUST_ASSIGN_OR_RETURN(std::string dir, MakeTempDir());
  return Launch(std::move(dir), extra_args, binary);
}

absl::StatusOr<std::unique_ptr<DtrustdProcess>>
DtrustdProcess::StartEmbedded() {
  DTRUST_ASSIGN_OR_RETURN(std::string dir, MakeTempDir());
  const std::string data_dir = dir + "/data";
  return Launch(std::move(dir), {"--data-dir", data_dir});
}

absl::StatusOr<std::unique_ptr<DtrustdProcess>> DtrustdProcess::StartWithLdap(
    const SlapdFixture& slapd, const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {"--ldap-uri",
                                   slapd.uri(),
                                   "--base-dn",
                                   slapd.suffix(),
                                   "--bind-dn",
                                   slapd.bind_dn(),
                                   "--bind-password-file",
                                   slapd.bind_password_file()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return Start(args);
}

absl::StatusOr<std::unique_ptr<DtrustdProcess>> DtrustdProcess::Launch(
    std::string dir, const std::vector<std::string>& args,
    const std::string& binary) {
  std::vector<std::string> argv_strings = {
      binary.empty() ? kDtrustdPath : binary, "--listen",
      "unix:" + dir + "/dtrustd.sock"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const std::string log_path = dir + "/dtrustd.log";
  const int log_fd =
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    absl::Status error = ErrnoError(absl::StrCat("open ", log_path));
    if (log_fd >= 0) close(log_fd);
    if (null_fd >= 0) close(null_fd);
    std::filesystem::remove_all(dir);
    return error;
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) {
      _exit(127);
    }
    if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) {
      _exit(127);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  const int fork_errno = errno;
  close(log_fd);
  close(null_fd);
  if (pid < 0) {
    std::filesystem::remove_all(dir);
    errno = fork_errno;
    return ErrnoError("fork");
  }
  std::unique_ptr<DtrustdProcess> process(
      new DtrustdProcess(std::move(dir), pid));
  absl::Status ready = process->WaitUntilReady();
  if (!ready.ok()) return ready;  // The destructor stops it and cleans up.
  return process;
}

DtrustdProcess::~DtrustdProcess() {
  Stop().IgnoreError();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string DtrustdProcess::Log() const {
  std::ifstream file(dir_ + "/dtrustd.log");
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

absl::Status DtrustdProcess::WaitUntilReady() {
  const absl::Time deadline = absl::Now() + kReadyTimeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(
          absl::StrCat("dtrustd exited (", DescribeWaitStatus(status),
                       ") before it was ready; its log:\n", Log()));
    }
    if (absl::StrContains(Log(), kReadyLine)) return absl::OkStatus();
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError(
      absl::StrCat("dtrustd not ready after ",
                   absl::FormatDuration(kReadyTimeout), "; its log:\n", Log()));
}

absl::Status DtrustdProcess::Stop() {
  if (pid_ < 0) return absl::OkStatus();
  kill(pid_, SIGTERM);
  kill(pid_, SIGCONT);  // In case a test stopped it.
  int status = 0;
  pid_t reaped = 0;
  const absl::Time deadline = absl::Now() + kStopTimeout;
  while ((reaped = waitpid(pid_, &status, WNOHANG)) == 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(kPollInterval);
  }
  if (reaped == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  if (reaped == 0) {
    return absl::DeadlineExceededError(absl::StrCat(
        "dtrustd ignored SIGTERM for ", absl::FormatDuration(kStopTimeout),
        "; killed it. Its log:\n", Log()));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("dtrustd stopped with ",
                                            DescribeWaitStatus(status),
                                            "; its log:\n", Log()));
  }
  return absl::OkStatus();
}

}  // namespace dtrust::testing
