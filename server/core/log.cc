#include "server/core/log.h"

#include <atomic>
#include <cstdint>
#include <cstdio>

#include "absl/time/clock.h"
#include "server/base/time_format.h"
#include "server/base/utf8.h"

namespace dtrust {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

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

std::string FormatLogLine(LogLevel level, absl::Time time,
                          absl::string_view message) {
  return absl::StrCat(FormatRfc3339Millis(time), " ", LevelName(level), " ",
                      EscapeLogText(message), "\n");
}

void SetMinLogLevel(LogLevel level) {
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

void Log(LogLevel level, absl::string_view message) {
  if (static_cast<int>(level) < min_level.load(std::memory_order_relaxed)) {
    return;
  }
  const std::string line = FormatLogLine(level, absl::Now(), message);
  // One fwrite per line: stdio locks the stream, so lines never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace dtrust
