#include "server/core/digest.h"

#include <openssl/evp.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/base/hex.h"

namespace dtrust {
namespace {

// Fetched once: an implicit fetch per call costs more than the hash itself.
const EVP_MD* Sha256() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

}  // namespace

Sha256Digest Sha256Digest::Of(absl::string_view data) {
  Sha256Digest digest;
  unsigned int size = 0;
  // EVP_Digest only fails on allocation failure or a broken provider; both
  // leave nothing sensible to do but stop.
  if (EVP_Digest(data.data(), data.size(), digest.value_.data(), &size,
                 Sha256(), nullptr) != 1 ||
      size != kSize) {
    std::abort();
  }
  return digest;
}

absl::StatusOr<Sha256Digest> Sha256Digest::FromBytes(absl::string_view bytes,
                                                     absl::string_view what) {
  if (bytes.size() != kSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": a SHA-256 digest is 32 bytes, got ", bytes.size()));
  }
  Sha256Digest digest;
  std::memcpy(digest.value_.data(), bytes.data(), kSize);
  return digest;
}

absl::StatusOr<Sha256Digest> Sha256Digest::FromHex(absl::string_view text,
                                                   absl::string_view what) {
  text = absl::StripAsciiWhitespace(text);
  const bool colons = text.size() == kSize * 3 - 1;
  if (text.size() != kSize * 2 && !colons) {
    return absl::InvalidArgumentError(
        absl::StrCat(what,
                     ": a SHA-256 fingerprint is 64 hex digits (optionally "
                     "colon-separated), got ",
                     text.size(), " characters"));
  }
  Sha256Digest digest;
  const size_t stride = colons ? 3 : 2;
  for (size_t i = 0; i < kSize; ++i) {
    const size_t pos = i * stride;
    if (colons && i > 0 && text[pos - 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": expected ':' at position ", pos, " of the fingerprint"));
    }
    const int hi = HexDigitValue(text[pos]);
    const int lo = HexDigitValue(text[pos + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": '", text.substr(pos, 2), "' at position ",
                       pos + 1, " is not a hex byte"));
    }
    digest.value_[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return digest;
}

std::string Sha256Digest::ToHex() const { return LowerHex(bytes()); }

std::string Sha256Digest::ToColonHex() const { return ColonHex(bytes()); }

}  // namespace dtrust
