// A small streaming JSON writer (RFC 8259): the CLI's --json output and
// dtrustd's JSON log lines.
#ifndef DTRUST_SERVER_BASE_JSON_WRITER_H_
#define DTRUST_SERVER_BASE_JSON_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace dtrust {

// Appends compact JSON to a string. The caller nests Begin/End calls
// correctly and calls Key() before each value inside an object; misuse is a
// programming error (checked with assert). Strings are escaped; bytes that
// are not valid UTF-8 are written as U+FFFD, so the output is always valid
// JSON. Thread-compatible; does not own `out`, which must outlive it.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  void Key(absl::string_view key);

  void String(absl::string_view value);
  void Null();
  void Bool(bool value);
  void Uint(uint64_t value);

  // Shorthand for Key(key) followed by the value.
  void Field(absl::string_view key, absl::string_view value) {
    Key(key);
    String(value);
  }
  // Key(key), then the value or null if there is none.
  void NullableField(absl::string_view key,
                     const std::optional<std::string>& value);
  // Key(key), then an array of strings.
  void StringArray(absl::string_view key,
                   const std::vector<std::string>& values);

 private:
  struct Level {
    bool is_object;
    bool empty = true;
  };

  // Writes the separator a new value needs at the current position.
  void BeforeValue();
  void WriteQuoted(absl::string_view text);

  std::string* const out_;
  std::vector<Level> stack_;
  bool after_key_ = false;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_JSON_WRITER_H_
