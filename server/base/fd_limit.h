// The process's limit on open file descriptors (RLIMIT_NOFILE).
#ifndef DTRUST_SERVER_BASE_FD_LIMIT_H_
#define DTRUST_SERVER_BASE_FD_LIMIT_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace dtrust {

// Raises the soft RLIMIT_NOFILE of this process to its hard limit and
// returns the soft limit now in force (unchanged if it already was the
// hard limit). An error (from getrlimit/setrlimit) names the cause; the
// limit is then unchanged. Thread-safe.
absl::StatusOr<uint64_t> RaiseOpenFileLimit();

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_FD_LIMIT_H_
