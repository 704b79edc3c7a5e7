#include "server/mirror/mirror.h"

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "server/core/log.h"

namespace dtrust {

namespace {

uint64_t RandomEpoch() {
  absl::BitGen random;
  // Never 0: a WatchRequest's (0, 0) asks for a snapshot.
  return absl::Uniform<uint64_t>(random, 1, UINT64_MAX);
}

}  // namespace

Mirror::Mirror(const MirrorOptions& options, const Clock* clock)
    : options_(options),
      clock_(clock),
      started_(clock->Now()),
      changes_(options.change_log_capacity, RandomEpoch()) {
  index_.Write()->SetChangeLog(&changes_);
}

void Mirror::StartEpoch() {
  // Under the index's write lock, as the appends are: no change is recorded
  // between the new epoch and a reader's snapshot without being in it.
  const MirrorIndex::WriteView view = index_.Write();
  changes_.StartEpoch(RandomEpoch());
}

void Mirror::MarkConnected(absl::string_view uri) {
  absl::MutexLock lock(&mutex_);
  connected_ = true;
  uri_ = std::string(uri);
  last_error_.clear();
}

void Mirror::MarkCurrent(absl::Time as_of, bool live) {
  bool changed;
  {
    absl::MutexLock lock(&mutex_);
    const absl::Time now = clock_->Now();
    const Readiness before = ReadinessLocked(now);
    if (!initial_load_) {
      StartEpoch();
      initial_load_ = now - started_;
      LogInfo("directory mirror loaded in ",
              absl::FormatDuration(*initial_load_), ": ",
              index_.Read()->Counts().pins, " pins");
    }
    if (!last_current_ || as_of > *last_current_) last_current_ = as_of;
    live_.store(live, std::memory_order_release);
    changed = ReadinessLocked(now) != before;
  }
  if (changed) listeners_.Notify();
}

void Mirror::MarkDisconnected(absl::string_view error) {
  bool changed;
  {
    absl::MutexLock lock(&mutex_);
    const absl::Time now = clock_->Now();
    const Readiness before = ReadinessLocked(now);
    connected_ = false;
    live_.store(false, std::memory_order_release);
    last_error_ = std::string(error);
    changed = ReadinessLocked(now) != before;
  }
  if (changed) listeners_.Notify();
}

Mirror::Readiness Mirror::ReadinessLocked(absl::Time now) const {
  const std::optional<absl::Duration> age = AgeLocked(now);
  Readiness readiness;
  readiness.serving = age && *age <= options_.max_staleness;
  if (readiness.serving && !live_.load(std::memory_order_acquire)) {
    // The first moment the data is older than max_staleness.
    readiness.recheck_at =
        *last_current_ + options_.max_staleness + absl::Nanoseconds(1);
  }
  return readiness;
}

std::optional<absl::Duration> Mirror::AgeLocked(absl::Time now) const {
  if (!last_current_) return std::nullopt;
  if (live_.load(std::memory_order_acquire)) return absl::ZeroDuration();
  return std::max(absl::ZeroDuration(), now - *last_current_);
}

absl::Status Mirror::CheckServing() const {
  if (live_.load(std::memory_order_acquire)) return absl::OkStatus();
  absl::MutexLock lock(&mutex_);
  const std::optional<absl::Duration> age = AgeLocked(clock_->Now());
  if (!age) {
    return absl::UnavailableError(absl::StrCat(
        "the directory mirror has not completed its first load yet",
        last_error_.empty() ? "" : absl::StrCat(" (", last_error_, ")")));
  }
  if (*age > options_.max_staleness) {
    return absl::UnavailableError(absl::StrCat(
        "the directory mirror is ", absl::FormatDuration(*age),
        " old, more than --max-staleness ",
        absl::FormatDuration(options_.max_staleness),
        last_error_.empty() ? "" : absl::StrCat(" (", last_error_, ")")));
  }
  return absl::OkStatus();
}

std::optional<absl::Duration> Mirror::SnapshotAge() const {
  // Live implies loaded: last_current_ is set before live_ is.
  if (live_.load(std::memory_order_acquire)) return absl::ZeroDuration();
  absl::MutexLock lock(&mutex_);
  return AgeLocked(clock_->Now());
}

DirectoryStatus Mirror::Status() const {
  const MirrorCounts counts = index_.Read()->Counts();
  absl::MutexLock lock(&mutex_);
  DirectoryStatus status;
  status.mode = options_.mode;
  const absl::Time now = clock_->Now();
  status.snapshot_age = AgeLocked(now);
  const Readiness readiness = ReadinessLocked(now);
  status.serving = readiness.serving;
  status.recheck_at = readiness.recheck_at;
  status.connected = connected_;
  status.uri = uri_;
  status.max_staleness = options_.max_staleness;
  status.last_current = last_current_;
  status.last_error = last_error_;
  status.servers = counts.servers;
  status.pins = counts.pins;
  status.domain_policies = counts.domain_policies;
  status.index_bytes = counts.bytes;
  status.initial_load = initial_load_;
  status.started = started_;
  return status;
}

}  // namespace dtrust
