// What every dtrust libFuzzer harness shares: quiet logs, and a check that
// aborts (so libFuzzer reports the input) when a property does not hold.
#ifndef DTRUST_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define DTRUST_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
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

// Reads `stream` with a fresh Reader (Consume(string_view, vector<Item>*)
// -> Status, stopping at the first error) in one piece and split in two at
// `split`, requires both to give the same items and the same success, and
// returns the items.
template <typename Reader, typename Item>
std::vector<Item> ReadWholeAndSplit(absl::string_view stream, size_t split) {
  const auto read = [](std::vector<absl::string_view> parts,
                       std::vector<Item>* items) {
    Reader reader;
    for (const absl::string_view part : parts) {
      if (!reader.Consume(part, items).ok()) return false;
    }
    return true;
  };
  std::vector<Item> whole;
  std::vector<Item> in_parts;
  const bool whole_ok = read({stream}, &whole);
  const bool parts_ok =
      read({stream.substr(0, split), stream.substr(split)}, &in_parts);
  Require(whole_ok == parts_ok, "a split stream errs differently");
  Require(whole == in_parts, "a split stream reads differently");
  return whole;
}

}  // namespace dtrust::fuzz

// Every harness defines its initializer with this.
#define DTRUST_FUZZ_QUIET_LOGS()                       \
  extern "C" int LLVMFuzzerInitialize(int*, char***) { \
    dtrust::fuzz::QuietLogs();                         \
    return 0;                                          \
  }

#endif  // DTRUST_TESTS_FUZZ_FUZZ_SUPPORT_H_
