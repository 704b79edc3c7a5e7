// Hexadecimal digits: the lower-case form the directory and JSON use, the
// upper-case colon form `openssl x509 -fingerprint` and Postfix print, and
// reading single digits back.
#ifndef DTRUST_SERVER_BASE_HEX_H_
#define DTRUST_SERVER_BASE_HEX_H_

#include <string>

#include "absl/strings/string_view.h"

namespace dtrust {

// `bytes` as lower-case hex, two digits a byte: "00ff10".
std::string LowerHex(absl::string_view bytes);

// `bytes` as upper-case hex with a colon between bytes: "00:FF:10".
std::string ColonHex(absl::string_view bytes);

// The value (0 to 15) of hex digit `c`, either case; -1 if it is none.
int HexDigitValue(char c);

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_HEX_H_
