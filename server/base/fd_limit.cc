#include "server/base/fd_limit.h"

#include <sys/resource.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace dtrust {
namespace {

// Linux's default fs.nr_open: a soft limit above it fails even when the
// hard limit is unlimited.
constexpr rlim_t kUnlimitedCap = 1 << 20;

}  // namespace

absl::StatusOr<uint64_t> RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::ErrnoToStatus(errno, "cannot read RLIMIT_NOFILE");
  }
  const rlim_t target =
      limit.rlim_max == RLIM_INFINITY ? kUnlimitedCap : limit.rlim_max;
  if (limit.rlim_cur >= target) return limit.rlim_cur;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = target;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot raise RLIMIT_NOFILE from ", before, " to ",
                            target));
  }
  return limit.rlim_cur;
}

}  // namespace dtrust
