// Keeps lines a client can cause at will (a refused request, a certificate
// that is not published) from flooding the log: at most `lines_per_second`
// pass in any one-second window, the rest are counted, and the count rides
// on the next line that passes.
#ifndef DTRUST_SERVER_CORE_LOG_RATE_LIMITER_H_
#define DTRUST_SERVER_CORE_LOG_RATE_LIMITER_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/core/clock.h"
#include "server/core/log.h"

namespace dtrust {

// How many lines of each kind that clients can cause at will dtrustd logs in
// a second.
inline constexpr int kClientLogLinesPerSecond = 20;

// Thread-safe. Does not own `clock` (non-null, must outlive the limiter).
class LogRateLimiter {
 public:
  explicit LogRateLimiter(int lines_per_second,
                          const Clock* clock = Clock::Real());
  LogRateLimiter(const LogRateLimiter&) = delete;
  LogRateLimiter& operator=(const LogRateLimiter&) = delete;

  // Whether a line may be logged now. When it may and lines were dropped
  // since the last one that passed, `*suffix` says how many (for appending
  // to the line), else it is cleared.
  bool Allow(std::string* suffix);

  // If Allow() lets a line pass, logs StrCat(args..., suffix) at `level` and
  // returns true. The arguments are only concatenated when the line passes.
  template <typename... Args>
  bool LogIfAllowed(LogLevel level, const Args&... args) {
    std::string suffix;
    if (!Allow(&suffix)) return false;
    Log(level, absl::StrCat(args..., suffix));
    return true;
  }

 private:
  const int lines_per_second_;
  const Clock* const clock_;
  absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int lines_in_window_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t suppressed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_LOG_RATE_LIMITER_H_
