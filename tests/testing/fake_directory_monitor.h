// A settable DirectoryMonitor for tests.
#ifndef DTRUST_TESTS_TESTING_FAKE_DIRECTORY_MONITOR_H_
#define DTRUST_TESTS_TESTING_FAKE_DIRECTORY_MONITOR_H_

#include <optional>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/core/directory_status.h"

namespace dtrust::testing {

// Reports whatever status it was last given. Thread-safe.
class FakeDirectoryMonitor : public DirectoryMonitor {
 public:
  explicit FakeDirectoryMonitor(DirectoryStatus status = {})
      : status_(std::move(status)) {}

  DirectoryStatus Status() const override {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  std::optional<absl::Duration> SnapshotAge() const override {
    absl::MutexLock lock(&mu_);
    return status_.snapshot_age;
  }

  int Subscribe(Listener listener) const override {
    return listeners_.Add(std::move(listener));
  }
  void Unsubscribe(int id) const override { listeners_.Remove(id); }

  // Each notifies the listeners.
  void Set(DirectoryStatus status) {
    {
      absl::MutexLock lock(&mu_);
      status_ = std::move(status);
    }
    listeners_.Notify();
  }
  void SetServing(bool serving) {
    {
      absl::MutexLock lock(&mu_);
      status_.serving = serving;
    }
    listeners_.Notify();
  }
  // Changes the status without telling anyone, as time alone does (the
  // data ageing past max_staleness).
  void SetQuietly(DirectoryStatus status) {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
  }

 private:
  mutable absl::Mutex mu_;
  DirectoryStatus status_ ABSL_GUARDED_BY(mu_);
  mutable StatusListeners listeners_;
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_FAKE_DIRECTORY_MONITOR_H_
