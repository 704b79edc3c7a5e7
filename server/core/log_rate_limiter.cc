#include "server/core/log_rate_limiter.h"

#include "absl/strings/str_cat.h"
#include "server/core/metrics.h"

namespace dtrust {

LogRateLimiter::LogRateLimiter(int lines_per_second, const Clock* clock)
    : lines_per_second_(lines_per_second), clock_(clock) {}

bool LogRateLimiter::Allow(std::string* suffix) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  if (now - window_start_ >= absl::Seconds(1)) {
    window_start_ = now;
    lines_in_window_ = 0;
  }
  if (lines_in_window_ >= lines_per_second_) {
    ++suppressed_;
    ProcessMetrics().CountSuppressedLogLine();
    return false;
  }
  ++lines_in_window_;
  suffix->clear();
  if (suppressed_ > 0) {
    absl::StrAppend(suffix, " (", suppressed_, " more such line",
                    suppressed_ == 1 ? "" : "s",
                    " suppressed before this one, over ", lines_per_second_,
                    "/s)");
    suppressed_ = 0;
  }
  return true;
}

}  // namespace dtrust
