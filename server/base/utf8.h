// Checking UTF-8 one character at a time.
#ifndef DTRUST_SERVER_BASE_UTF8_H_
#define DTRUST_SERVER_BASE_UTF8_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace dtrust {

// The length (1 to 4) of the well-formed UTF-8 character that `text` starts
// with (RFC 3629; table 3-7 of the Unicode standard), or 0 if `text` is empty
// or starts with bytes that are none: a stray continuation byte, an overlong
// form, a surrogate, a code point above U+10FFFF or a truncated sequence.
size_t Utf8SequenceLength(absl::string_view text);

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_UTF8_H_
