// A settable Clock for tests.
#ifndef DTRUST_TESTS_TESTING_FAKE_CLOCK_H_
#define DTRUST_TESTS_TESTING_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "server/core/clock.h"

namespace dtrust::testing {

// Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time now = absl::Now()) : now_(now) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mutex_);
    return now_;
  }
  void Set(absl::Time now) {
    absl::MutexLock lock(&mutex_);
    now_ = now;
  }

 private:
  mutable absl::Mutex mutex_;
  absl::Time now_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_FAKE_CLOCK_H_
