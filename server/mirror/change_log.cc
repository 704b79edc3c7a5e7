#include "server/mirror/change_log.h"

#include <algorithm>

namespace dtrust {

ChangeLog::ChangeLog(size_t capacity, uint64_t epoch)
    : capacity_(std::max<size_t>(capacity, 1)), epoch_(epoch) {}

void ChangeLog::StartEpoch(uint64_t epoch) {
  {
    absl::MutexLock lock(&mutex_);
    epoch_ = epoch;
    version_ = 0;
    changes_.clear();
  }
  listeners_.Notify();
}

uint64_t ChangeLog::Append(ChangeSubject subject, absl::string_view name) {
  uint64_t version;
  {
    absl::MutexLock lock(&mutex_);
    version = ++version_;
    if (changes_.size() == capacity_) changes_.pop_front();
    changes_.push_back(Change{version, subject, std::string(name)});
  }
  listeners_.Notify();
  return version;
}

ChangePosition ChangeLog::Current() const {
  absl::MutexLock lock(&mutex_);
  return ChangePosition{epoch_, version_};
}

std::optional<std::vector<Change>> ChangeLog::Since(ChangePosition from,
                                                    size_t max_changes) const {
  absl::MutexLock lock(&mutex_);
  if (from.epoch != epoch_ || from.version > version_) return std::nullopt;
  const uint64_t oldest_kept =
      changes_.empty() ? version_ + 1 : changes_.front().version;
  if (from.version + 1 < oldest_kept) return std::nullopt;
  std::vector<Change> out;
  for (auto it = changes_.begin() + (from.version + 1 - oldest_kept);
       it != changes_.end() && out.size() < max_changes; ++it) {
    out.push_back(*it);
  }
  return out;
}

}  // namespace dtrust
