// What every dtrust libFuzzer harness shares: quiet logs, and a check that
// aborts (so libFuzzer reports the input) when a property does not hold.
#ifndef DTRUST_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define DTRUST_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstdio>
#include <cstdlib>

#include "server/core/log.h"

namespace dtrust::fuzz {

// Called once from LLVMFuzzerInitialize: only errors are logged (warnings
// about rejected input would flood the output and slow the run).
inline void QuietLogs() { SetMinLogLevel(LogLevel::kError); }

// Aborts with `what` unless `condition`: a property the harness checks.
inline void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace dtrust::fuzz

// Every harness defines its initializer with this.
#define DTRUST_FUZZ_QUIET_LOGS()                       \
  extern "C" int LLVMFuzzerInitialize(int*, char***) { \
    dtrust::fuzz::QuietLogs();                         \
    return 0;                                          \
  }

#endif  // DTRUST_TESTS_FUZZ_FUZZ_SUPPORT_H_
