#include "server/base/hex.h"

namespace dtrust {
namespace {

std::string HexWith(absl::string_view bytes, const char* digits, bool colons) {
  std::string out;
  out.reserve(bytes.size() * 3);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (colons && i > 0) out.push_back(':');
    const auto byte = static_cast<unsigned char>(bytes[i]);
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0xf]);
  }
  return out;
}

}  // namespace

std::string LowerHex(absl::string_view bytes) {
  return HexWith(bytes, "0123456789abcdef", /*colons=*/false);
}

std::string ColonHex(absl::string_view bytes) {
  return HexWith(bytes, "0123456789ABCDEF", /*colons=*/true);
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace dtrust
