#include "server/embedded/embedded_directory.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/base/status_macros.h"
#include "server/core/log.h"
#include "server/embedded/child_process.h"
#include "server/embedded/ldapi_probe.h"

namespace dtrust {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Seconds(1);
constexpr absl::Duration kMaxBackoff = absl::Seconds(30);
// A slapd that ran this long before dying restarts after kFirstBackoff again.
constexpr absl::Duration kStableRun = absl::Minutes(1);
constexpr absl::Duration kProbeInterval = absl::Milliseconds(20);
constexpr absl::Duration kProbeTimeout = absl::Seconds(2);
constexpr absl::Duration kStopTimeout = absl::Seconds(10);

}  // namespace

absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> EmbeddedDirectory::Start(
    const EmbeddedDirectoryOptions& options) {
  DTRUST_ASSIGN_OR_RETURN(std::unique_ptr<DataDir> dir, DataDir::Open(options));
  std::unique_ptr<EmbeddedDirectory> directory(
      new EmbeddedDirectory(std::move(dir), options));
  std::promise<absl::Status> started;
  std::future<absl::Status> result = started.get_future();
  // slapd is always forked by this thread: PR_SET_PDEATHSIG fires when the
  // forking thread exits, and this one outlives every slapd it starts.
  directory->supervisor_ = std::thread(&EmbeddedDirectory::Supervise,
                                       directory.get(), std::move(started));
  absl::Status status = result.get();
  if (!status.ok()) return status;  // ~EmbeddedDirectory joins and unlocks.
  return directory;
}

EmbeddedDirectory::EmbeddedDirectory(std::unique_ptr<DataDir> dir,
                                     const EmbeddedDirectoryOptions& options)
    : options_(options),
      dir_(std::move(dir)),
      path_(dir_->path()),
      uri_(dir_->ldap_uri()),
      base_dn_(dir_->base().dn),
      service_dn_(ServiceDn(dir_->base())) {}

EmbeddedDirectory::~EmbeddedDirectory() { Stop(); }

pid_t EmbeddedDirectory::slapd_pid() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pid_;
}

void EmbeddedDirectory::Stop() {
  std::call_once(stop_once_, [this] {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    const pid_t pid = pid_;
    if (pid > 0) kill(pid, SIGTERM);
    cv_.notify_all();
    if (pid > 0 && !cv_.wait_for(lock, absl::ToChronoNanoseconds(kStopTimeout),
                                 [this] { return pid_ <= 0; })) {
      LogWarning("slapd (pid ", pid_, ") for ", path_, " ignored SIGTERM for ",
                 absl::FormatDuration(kStopTimeout), "; sending SIGKILL");
      kill(pid_, SIGKILL);
    }
    lock.unlock();
    if (supervisor_.joinable()) supervisor_.join();
    dir_.reset();
    if (pid > 0) LogInfo("stopped slapd (pid ", pid, ") for ", path_);
  });
}

void EmbeddedDirectory::Supervise(std::promise<absl::Status> started) {
  absl::Status status = StartSlapd();
  const bool ok = status.ok();
  started.set_value(std::move(status));
  if (!ok) return;

  absl::Duration backoff = kFirstBackoff;
  while (true) {
    const absl::Time since = absl::Now();
    const pid_t pid = slapd_pid();
    const std::string how = AwaitExit();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    if (absl::Now() - since >= kStableRun) backoff = kFirstBackoff;
    LogError("slapd (pid ", pid, ") for ", path_, " ", how,
             " unexpectedly; restarting it in ", absl::FormatDuration(backoff),
             ". Last lines of its log:\n", dir_->LogTail());
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (cv_.wait_for(lock, absl::ToChronoNanoseconds(backoff),
                         [this] { return stopping_; })) {
          return;
        }
      }
      backoff = std::min(backoff * 2, kMaxBackoff);
      status = StartSlapd();
      if (status.ok()) break;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
      }
      LogError("restarting slapd for ", path_, " failed: ", status.ToString(),
               "; next attempt in ", absl::FormatDuration(backoff));
    }
  }
}

absl::Status EmbeddedDirectory::StartSlapd() {
  DTRUST_ASSIGN_OR_RETURN(OwnedFd log, dir_->OpenLog("starting slapd"));
  pid_t pid = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::CancelledError("the directory is stopping");
    // "-d none": stay in the foreground, log only errors, to stderr.
    // slapd inherits the data dir lock and so keeps it until it exits.
    // Its only listener is the unix socket DIR/ldapi, which it binds with
    // umask 0 (mode 0777; this slapd ignores ldapi's x-mod= extension).
    // Only dtrustd's user reaches it all the same: DataDir::Open made DIR
    // mode 0700 and dtrustd's own, and RestrictSocket below sets the socket
    // to 0600 as soon as slapd answers.
    DTRUST_ASSIGN_OR_RETURN(
        pid, SpawnChild({{options_.slapd_path, "-d", "none", "-f",
                          dir_->slapd_conf(), "-h", uri_},
                         log.get(),
                         dir_->lock_fd()}));
    pid_ = pid;
  }
  const absl::Time deadline = absl::Now() + options_.start_timeout;
  absl::Status probe;
  while (true) {
    if (HasExited(pid)) {
      const std::string how = AwaitExit();
      return absl::UnavailableError(absl::StrCat(
          options_.slapd_path, " for ", path_, " ", how,
          " while starting. Last lines of its log:\n", dir_->LogTail()));
    }
    probe = ProbeLdapi(uri_, base_dn_, service_dn_, kProbeTimeout);
    if (probe.ok()) probe = dir_->RestrictSocket();
    if (probe.ok()) {
      LogInfo("slapd started: pid ", pid, ", ", uri_, ", data dir ", path_,
              ", base DN '", base_dn_, "'");
      return absl::OkStatus();
    }
    if (!absl::IsUnavailable(probe) || absl::Now() >= deadline) break;
    absl::SleepFor(kProbeInterval);
  }
  Terminate(pid);
  return absl::Status(
      absl::IsUnavailable(probe) ? absl::StatusCode::kDeadlineExceeded
                                 : probe.code(),
      absl::StrCat("slapd for ", path_, " is not usable within ",
                   absl::FormatDuration(options_.start_timeout), ": ",
                   probe.message(), ". Last lines of its log:\n",
                   dir_->LogTail()));
}

std::string EmbeddedDirectory::AwaitExit() {
  const pid_t pid = slapd_pid();
  // Wait without reaping, so Stop() may still signal the pid meanwhile.
  absl::Status waited = WaitForExitNoReap(pid);
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<int> status = WaitForChild(pid);
  pid_ = -1;
  cv_.notify_all();
  if (!waited.ok()) return absl::StrCat("vanished (", waited.message(), ")");
  if (!status.ok())
    return absl::StrCat("vanished (", status.status().message(), ")");
  return DescribeWaitStatus(*status);
}

void EmbeddedDirectory::Terminate(pid_t pid) {
  kill(pid, SIGTERM);
  const absl::Time deadline = absl::Now() + kStopTimeout;
  while (!HasExited(pid) && absl::Now() < deadline) {
    absl::SleepFor(kProbeInterval);
  }
  if (!HasExited(pid)) {
    LogWarning("slapd (pid ", pid, ") for ", path_, " ignored SIGTERM for ",
               absl::FormatDuration(kStopTimeout), "; sending SIGKILL");
    kill(pid, SIGKILL);
  }
  AwaitExit();
}

}  // namespace dtrust
