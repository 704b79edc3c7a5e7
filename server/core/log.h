// Minimal leveled logging to stderr (Debian's abseil has no absl/log), as
// text or JSON lines, with syslog priorities under systemd.
//
// Every message is escaped at the sink, so no caller can let text from a
// client or a directory entry break a log line or forge one:
//   - "\t", "\n", "\r" are written as those two-character C escapes;
//   - any other C0 control byte (0x00-0x1f), DEL (0x7f), and every byte that
//     is not part of well-formed UTF-8 (RFC 3629: no overlong forms, no
//     surrogates, nothing above U+10FFFF) as "\xHH" (lower-case hex);
//   - the C1 controls U+0080-U+009F and the line and paragraph separators
//     U+2028, U+2029 (well-formed UTF-8, but line breaks to some readers) as
//     "\uHHHH".
// Everything else, printable UTF-8 included, passes unchanged. A backslash is
// not escaped, so text that callers already escaped (absl::CHexEscape, DNs
// with "\,") reads as before; the price is that a literal "\n" typed by a
// client looks like an escaped line feed - on the same line.
#ifndef DTRUST_SERVER_CORE_LOG_H_
#define DTRUST_SERVER_CORE_LOG_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace dtrust {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

enum class LogFormat {
  // "2026-01-31T12:00:00.123Z INFO message"
  kText,
  // {"time":"2026-01-31T12:00:00.123Z","level":"info","msg":"message"}
  kJson,
};

// How Log writes its lines.
struct LogStyle {
  LogFormat format = LogFormat::kText;
  // stderr is the systemd journal (StderrIsJournal()): every line starts
  // with its syslog priority ("<6>" for info, journald's SyslogLevelPrefix)
  // and has no time of its own (the journal stamps each line).
  bool journal = false;
};

// Writes FormatLogLine(style, level, now, message) to stderr. Thread-safe;
// lines from different threads never interleave.
void Log(LogLevel level, absl::string_view message);

// Messages below `level` are dropped. Default kInfo. Thread-safe.
void SetMinLogLevel(LogLevel level);

// The style of the lines Log writes from now on. Default: text, no journal.
// Thread-safe.
void SetLogStyle(LogStyle style);

// True when stderr is connected to the systemd journal: $JOURNAL_STREAM
// ("DEVICE:INODE", set by systemd) names the file stderr is open on. A
// child whose stderr was redirected elsewhere inherits the variable, hence
// the comparison.
bool StderrIsJournal();

// `text` escaped as described at the top of this file: the result holds no
// control character, no line separator and only well-formed UTF-8.
std::string EscapeLogText(absl::string_view text);

// The line Log writes, with the time in UTC and `message` escaped by
// EscapeLogText (in JSON, that escaped text is the "msg" string's value).
// Exactly one '\n', at the end.
std::string FormatLogLine(LogStyle style, LogLevel level, absl::Time time,
                          absl::string_view message);

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
