#include "tests/testing/slapd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/base/status_macros.h"
#include "tests/testing/run_command.h"

namespace dtrust::testing {
namespace {

constexpr char kLdapSearch[] = "/usr/bin/ldapsearch";
constexpr char kLdapModify[] = "/usr/bin/ldapmodify";
constexpr absl::Duration kReadyTimeout = absl::Seconds(10);

std::string ErrnoMessage(absl::string_view what) {
  return absl::StrCat(what, ": ", std::strerror(errno));
}

}  // namespace

SlapdProcess::SlapdProcess(std::string dir, std::vector<std::string> argv,
                           std::string probe_uri, absl::Duration stop_grace)
    : dir_(std::move(dir)),
      argv_(std::move(argv)),
      probe_uri_(std::move(probe_uri)),
      stop_grace_(stop_grace) {}

SlapdProcess::~SlapdProcess() { Stop().IgnoreError(); }

std::string SlapdProcess::Log() const {
  return ReadFileOrEmpty(dir_ + "/slapd.log");
}

absl::Status SlapdProcess::Launch() {
  if (pid_ >= 0) {
    return absl::FailedPreconditionError("slapd is already running");
  }
  const std::string log_path = dir_ + "/slapd.log";
  OwnedFd log_fd(
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  OwnedFd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (log_fd.get() < 0 || null_fd.get() < 0) {
    return absl::InternalError(ErrnoMessage("open " + log_path));
  }
  DTRUST_ASSIGN_OR_RETURN(
      pid_, SpawnProcess(argv_, null_fd.get(), log_fd.get(), log_fd.get()));
  const absl::Time deadline = absl::Now() + kReadyTimeout;
  while (absl::Now() < deadline) {
    if (std::optional<int> status = WaitForExit(pid_, absl::ZeroDuration())) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("slapd ", DescribeExit(*status),
                                              " before answering; its log:\n",
                                              Log()));
    }
    DTRUST_ASSIGN_OR_RETURN(
        CommandResult probe,
        RunCommand(dir_,
                   {kLdapSearch, "-x", "-H", probe_uri_, "-o", "nettimeout=1",
                    "-s", "base", "-b", "", "namingContexts"}));
    if (probe.ok()) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(10));
  }
  Stop().IgnoreError();
  return absl::DeadlineExceededError(
      absl::StrCat("slapd did not answer on ", probe_uri_, " within ",
                   absl::FormatDuration(kReadyTimeout), "; its log:\n", Log()));
}

absl::Status SlapdProcess::Stop() {
  if (pid_ < 0) return absl::OkStatus();
  const pid_t pid = pid_;
  pid_ = -1;
  return TerminateProcess(pid, stop_grace_);
}

absl::Status SlapdProcess::Pause() {
  if (pid_ < 0) return absl::FailedPreconditionError("slapd is not running");
  if (kill(pid_, SIGSTOP) != 0) {
    return absl::InternalError(ErrnoMessage("kill SIGSTOP"));
  }
  // kill() returns before every thread has stopped; WUNTRACED reports the
  // completed group stop.
  int status = 0;
  pid_t done;
  do {
    done = waitpid(pid_, &status, WUNTRACED);
  } while (done < 0 && errno == EINTR);
  if (done != pid_ || !WIFSTOPPED(status)) {
    return absl::InternalError(
        absl::StrCat("slapd did not stop: ", DescribeExit(status)));
  }
  return absl::OkStatus();
}

absl::Status SlapdProcess::Resume() {
  if (pid_ < 0) return absl::FailedPreconditionError("slapd is not running");
  if (kill(pid_, SIGCONT) != 0) {
    return absl::InternalError(ErrnoMessage("kill SIGCONT"));
  }
  return absl::OkStatus();
}

LdapTools::LdapTools(std::string scratch_dir, std::string uri,
                     std::string bind_dn, std::string password_file)
    : scratch_dir_(std::move(scratch_dir)),
      uri_(std::move(uri)),
      bind_dn_(std::move(bind_dn)),
      password_file_(std::move(password_file)) {}

absl::StatusOr<std::string> LdapTools::Search(
    const std::string& base, const std::string& filter,
    const std::vector<std::string>& attrs) const {
  std::vector<std::string> argv = {
      kLdapSearch,    "-x", "-LLL", "-o",  "ldif-wrap=no", "-o",
      "nettimeout=5", "-H", uri_,   "-D",  bind_dn_,       "-y",
      password_file_, "-b", base,   filter};
  argv.insert(argv.end(), attrs.begin(), attrs.end());
  DTRUST_ASSIGN_OR_RETURN(CommandResult result, RunCommand(scratch_dir_, argv));
  if (!result.ok()) {
    return absl::InternalError(result.Describe(absl::StrCat(
        "ldapsearch -H ", uri_, " -b \"", base, "\" \"", filter, "\"")));
  }
  return result.out;
}

absl::Status LdapTools::Modify(const std::string& ldif) const {
  std::string input = scratch_dir_ + "/modify-XXXXXX";
  OwnedFd fd(mkostemp(input.data(), O_CLOEXEC));
  if (fd.get() < 0) {
    return absl::InternalError(ErrnoMessage("mkostemp " + input));
  }
  if (absl::Status written = WriteTestFile(input, ldif); !written.ok()) {
    unlink(input.c_str());
    return written;
  }
  absl::StatusOr<CommandResult> result = RunCommand(
      scratch_dir_, {kLdapModify, "-x", "-a", "-o", "nettimeout=5", "-H", uri_,
                     "-D", bind_dn_, "-y", password_file_, "-f", input});
  unlink(input.c_str());
  if (!result.ok()) return result.status();
  if (!result->ok()) {
    return absl::InternalError(
        result->Describe(absl::StrCat("ldapmodify -H ", uri_)));
  }
  return absl::OkStatus();
}

}  // namespace dtrust::testing
