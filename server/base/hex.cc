#include "server/base/hex.h"

namespace dtrust {
namespace {

std::string HexWith(absl::string_view bytes, const char* digits, bool colons) {
  if (bytes.empty()) return "";
  // Sized once and written in place: digests are formatted on every Verify.
  const size_t stride = colons ? 3 : 2;
  std::string out(bytes.size() * stride - (colons ? 1 : 0), ':');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    out[i * stride] = digits[byte >> 4];
    out[i * stride + 1] = digits[byte & 0xf];
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
