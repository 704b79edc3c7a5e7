// Time source, behind an interface so tests can control it.
#ifndef DTRUST_SERVER_CORE_CLOCK_H_
#define DTRUST_SERVER_CORE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dtrust {

// Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // The process-wide real-time clock; never null, never deleted.
  static const Clock* Real();
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_CLOCK_H_
