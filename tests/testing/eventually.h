// Waiting for a condition in tests that watch another thread or process.
#ifndef DTRUST_TESTS_TESTING_EVENTUALLY_H_
#define DTRUST_TESTS_TESTING_EVENTUALLY_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dtrust::testing {

// Whether `condition` holds within `timeout`, checked every `every`.
inline bool Eventually(const std::function<bool()>& condition,
                       absl::Duration timeout = absl::Seconds(5),
                       absl::Duration every = absl::Milliseconds(5)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(every);
  }
  return condition();
}

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_EVENTUALLY_H_
