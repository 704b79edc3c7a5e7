#include "server/core/directory_status.h"

namespace dtrust {

absl::string_view SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kNone:
      return "none";
    case SyncMode::kRefreshAndPersist:
      return "refresh-and-persist";
    case SyncMode::kPoll:
      return "poll";
  }
  return "none";
}

int StatusListeners::Add(DirectoryMonitor::Listener listener) {
  absl::MutexLock lock(&mu_);
  listeners_.emplace_back(next_id_, std::move(listener));
  return next_id_++;
}

void StatusListeners::Remove(int id) {
  absl::MutexLock lock(&mu_);
  std::erase_if(listeners_,
                [id](const auto& entry) { return entry.first == id; });
}

void StatusListeners::Notify() const {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, listener] : listeners_) listener();
}

}  // namespace dtrust
