#ifndef DTRUST_SERVER_MIRROR_CHANGE_LOG_H_
#define DTRUST_SERVER_MIRROR_CHANGE_LOG_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/core/directory_status.h"

namespace dtrust {

// What a change names; the watcher reads the current value from the index.
enum class ChangeSubject { kServer, kDomainPolicy };

struct Change {
  uint64_t version = 0;
  ChangeSubject subject = ChangeSubject::kServer;
  std::string name;  // Server name or policy domain.
  bool operator==(const Change&) const = default;
};

// Where a watcher is: an epoch (one per full load of the data) and the
// version of the last change it applied within that epoch.
struct ChangePosition {
  uint64_t epoch = 0;
  uint64_t version = 0;
  bool operator==(const ChangePosition&) const = default;
};

// The mirror's change feed (docs/watch.md): consecutive versions within an
// epoch, the last `capacity` changes kept (older ones are dropped, so memory
// is bounded), subscribers notified after each change and each new epoch.
// Records names only, never values, so it never holds a stale copy.
// Thread-safe.
class ChangeLog {
 public:
  // `capacity` >= 1; `epoch` is the first epoch (callers pick random ones so
  // that a restarted dtrustd never reuses one).
  ChangeLog(size_t capacity, uint64_t epoch);

  // A full (re)load: forgets every change, versions restart at 0.
  void StartEpoch(uint64_t epoch);
  // Records a change and returns its version.
  uint64_t Append(ChangeSubject subject, absl::string_view name);

  ChangePosition Current() const;
  // The changes after `from`, at most `max_changes` of them (oldest first).
  // nullopt when `from` is from another epoch or older than the log: the
  // watcher needs a new snapshot.
  std::optional<std::vector<Change>> Since(ChangePosition from,
                                           size_t max_changes) const;

  // As DirectoryMonitor::Subscribe/Unsubscribe: `listener` runs on the
  // appending thread with no lock of this log held, and must be quick.
  int Subscribe(DirectoryMonitor::Listener listener) {
    return listeners_.Add(std::move(listener));
  }
  void Unsubscribe(int id) { listeners_.Remove(id); }

 private:
  const size_t capacity_;
  mutable absl::Mutex mutex_;
  uint64_t epoch_ ABSL_GUARDED_BY(mutex_);
  uint64_t version_ ABSL_GUARDED_BY(mutex_) = 0;
  std::deque<Change> changes_ ABSL_GUARDED_BY(mutex_);
  StatusListeners listeners_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_MIRROR_CHANGE_LOG_H_
