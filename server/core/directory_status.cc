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

bool AwaitServing(const DirectoryMonitor& monitor, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Mutex mu;
  bool changed = false;
  const int id = monitor.Subscribe([&] {
    absl::MutexLock lock(&mu);
    changed = true;
  });
  bool serving = monitor.Status().serving;
  while (!serving) {
    {
      absl::MutexLock lock(&mu);
      if (!mu.AwaitWithDeadline(absl::Condition(&changed), deadline)) break;
      changed = false;
    }
    serving = monitor.Status().serving;
  }
  monitor.Unsubscribe(id);
  return serving;
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
