#include "server/core/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "server/base/json_writer.h"
#include "server/base/time_format.h"
#include "server/base/utf8.h"

namespace dtrust {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<LogFormat> log_format{LogFormat::kText};
std::atomic<bool> log_to_journal{false};

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

absl::string_view JsonLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

// syslog(3) priorities: LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR.
int SyslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return 7;
    case LogLevel::kInfo:
      return 6;
    case LogLevel::kWarning:
      return 4;
    case LogLevel::kError:
      return 3;
  }
  return 3;
}

std::string JsonLogLine(bool with_time, LogLevel level, absl::Time time,
                        absl::string_view message) {
  std::string line;
  JsonWriter json(&line);
  json.BeginObject();
  if (with_time) json.Field("time", FormatRfc3339Millis(time));
  json.Field("level", JsonLevelName(level));
  json.Field("msg", EscapeLogText(message));
  json.EndObject();
  return line;
}

// Appends `prefix` and `digits` lower-case hex digits of `value`.
void AppendHex(absl::string_view prefix, uint32_t value, int digits,
               std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->append(prefix.data(), prefix.size());
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
    out->push_back(kHex[(value >> shift) & 0xf]);
  }
}

// Appends the escape of ASCII control byte `byte` (< 0x20 or 0x7f).
void AppendControlEscape(unsigned char byte, std::string* out) {
  switch (byte) {
    case '\t':
      out->append("\\t");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    default:
      AppendHex("\\x", byte, 2, out);
  }
}

// Appends the well-formed UTF-8 sequence `character`, escaped as \uHHHH when
// it is a C1 control or a line or paragraph separator.
void AppendCharacter(absl::string_view character, std::string* out) {
  const auto at = [character](size_t i) {
    return static_cast<unsigned char>(character[i]);
  };
  if (character.size() == 2 && at(0) == 0xc2 && at(1) <= 0x9f) {
    AppendHex("\\u", at(1), 4, out);  // U+0080..U+009F.
  } else if (character == "\xe2\x80\xa8" || character == "\xe2\x80\xa9") {
    AppendHex("\\u", 0x2000 | (at(2) & 0x3f), 4, out);  // U+2028, U+2029.
  } else {
    out->append(character.data(), character.size());
  }
}

}  // namespace

std::string EscapeLogText(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f) {
      out.push_back(text[i]);
      ++i;
    } else if (byte < 0x80) {
      AppendControlEscape(byte, &out);
      ++i;
    } else if (const size_t length = Utf8SequenceLength(text.substr(i));
               length == 0) {
      AppendHex("\\x", byte, 2, &out);
      ++i;
    } else {
      AppendCharacter(text.substr(i, length), &out);
      i += length;
    }
  }
  return out;
}

std::string FormatLogLine(LogStyle style, LogLevel level, absl::Time time,
                          absl::string_view message) {
  std::string line;
  if (style.journal) absl::StrAppend(&line, "<", SyslogPriority(level), ">");
  if (style.format == LogFormat::kJson) {
    absl::StrAppend(&line, JsonLogLine(!style.journal, level, time, message));
  } else {
    if (!style.journal) absl::StrAppend(&line, FormatRfc3339Millis(time), " ");
    absl::StrAppend(&line, LevelName(level), " ", EscapeLogText(message));
  }
  line.push_back('\n');
  return line;
}

bool StderrIsJournal() {
  const char* const stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  const std::pair<absl::string_view, absl::string_view> device_inode =
      absl::StrSplit(stream, absl::MaxSplits(':', 1));
  uint64_t device = 0;
  uint64_t inode = 0;
  struct stat status {};
  return absl::SimpleAtoi(device_inode.first, &device) &&
         absl::SimpleAtoi(device_inode.second, &inode) &&
         fstat(STDERR_FILENO, &status) == 0 && status.st_dev == device &&
         status.st_ino == inode;
}

void SetLogStyle(LogStyle style) {
  log_format.store(style.format, std::memory_order_relaxed);
  log_to_journal.store(style.journal, std::memory_order_relaxed);
}

void SetMinLogLevel(LogLevel level) {
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

void Log(LogLevel level, absl::string_view message) {
  if (static_cast<int>(level) < min_level.load(std::memory_order_relaxed)) {
    return;
  }
  const LogStyle style{
      .format = log_format.load(std::memory_order_relaxed),
      .journal = log_to_journal.load(std::memory_order_relaxed)};
  const std::string line = FormatLogLine(style, level, absl::Now(), message);
  // One fwrite per line: stdio locks the stream, so lines never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace dtrust
