// Minimal leveled logging to stderr (Debian's abseil has no absl/log).
#ifndef DTRUST_SERVER_CORE_LOG_H_
#define DTRUST_SERVER_CORE_LOG_H_

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace dtrust {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Writes one line "TIMESTAMP LEVEL message" to stderr. Thread-safe; lines from
// different threads never interleave.
void Log(LogLevel level, absl::string_view message);

// Messages below `level` are dropped. Default kInfo. Thread-safe.
void SetMinLogLevel(LogLevel level);

template <typename... Args>
void LogInfo(const Args&... args) {
  Log(LogLevel::kInfo, absl::StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  Log(LogLevel::kWarning, absl::StrCat(args...));
}
template <typename... Args>
void LogError(const Args&... args) {
  Log(LogLevel::kError, absl::StrCat(args...));
}

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_LOG_H_
