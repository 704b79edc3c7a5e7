#include "server/base/json_writer.h"

#include <cassert>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/base/utf8.h"

namespace dtrust {

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  assert(stack_.empty() || !stack_.back().is_object);
  if (!stack_.empty()) {
    if (!stack_.back().empty) out_->push_back(',');
    stack_.back().empty = false;
  }
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_->push_back('{');
  stack_.push_back({.is_object = true});
}

void JsonWriter::EndObject() {
  assert(!stack_.empty() && stack_.back().is_object && !after_key_);
  stack_.pop_back();
  out_->push_back('}');
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_->push_back('[');
  stack_.push_back({.is_object = false});
}

void JsonWriter::EndArray() {
  assert(!stack_.empty() && !stack_.back().is_object);
  stack_.pop_back();
  out_->push_back(']');
}

void JsonWriter::Key(absl::string_view key) {
  assert(!stack_.empty() && stack_.back().is_object && !after_key_);
  if (!stack_.back().empty) out_->push_back(',');
  stack_.back().empty = false;
  WriteQuoted(key);
  out_->push_back(':');
  after_key_ = true;
}

void JsonWriter::String(absl::string_view value) {
  BeforeValue();
  WriteQuoted(value);
}

void JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_->append(value ? "true" : "false");
}

void JsonWriter::Uint(uint64_t value) {
  BeforeValue();
  absl::StrAppend(out_, value);
}

void JsonWriter::NullableField(absl::string_view key,
                               const std::optional<std::string>& value) {
  Key(key);
  if (value.has_value()) {
    String(*value);
  } else {
    Null();
  }
}

void JsonWriter::StringArray(absl::string_view key,
                             const std::vector<std::string>& values) {
  Key(key);
  BeginArray();
  for (const std::string& value : values) String(value);
  EndArray();
}

void JsonWriter::WriteQuoted(absl::string_view text) {
  out_->push_back('"');
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"':
        out_->append("\\\"");
        break;
      case '\\':
        out_->append("\\\\");
        break;
      case '\b':
        out_->append("\\b");
        break;
      case '\f':
        out_->append("\\f");
        break;
      case '\n':
        out_->append("\\n");
        break;
      case '\r':
        out_->append("\\r");
        break;
      case '\t':
        out_->append("\\t");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out_, "\\u%04x", c);
        } else if (size_t length = Utf8SequenceLength(text.substr(i));
                   length == 0) {
          out_->append("\\ufffd");
        } else {
          out_->append(text.data() + i, length);
          i += length;
          continue;
        }
    }
    ++i;
  }
  out_->push_back('"');
}

}  // namespace dtrust
