// SHA-256 digests as dtrust matches them: exact 32-byte values.
#ifndef DTRUST_SERVER_CORE_DIGEST_H_
#define DTRUST_SERVER_CORE_DIGEST_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dtrust {

// An immutable SHA-256 value. Cheap to copy; thread-compatible.
class Sha256Digest {
 public:
  static constexpr size_t kSize = 32;

  // All zero bytes; for default-constructed records only.
  Sha256Digest() = default;

  // SHA-256 of `data`. Thread-safe.
  static Sha256Digest Of(absl::string_view data);

  // From exactly 32 raw bytes; InvalidArgument otherwise. `what` names the
  // value in the error message (e.g. "sha256").
  static absl::StatusOr<Sha256Digest> FromBytes(absl::string_view bytes,
                                                absl::string_view what);

  // From 64 hex digits, upper or lower case, optionally separated by colons
  // between bytes (OpenSSL's and Postfix's "AB:CD:..." form), surrounding
  // whitespace ignored. InvalidArgument naming `what` otherwise.
  static absl::StatusOr<Sha256Digest> FromHex(absl::string_view text,
                                              absl::string_view what);

  absl::string_view bytes() const {
    return absl::string_view(reinterpret_cast<const char*>(value_.data()),
                             value_.size());
  }
  // 64 lower-case hex digits: the directory's form.
  std::string ToHex() const;
  // Upper-case hex with colons: the form `openssl x509 -fingerprint` and
  // Postfix print.
  std::string ToColonHex() const;

  friend bool operator==(const Sha256Digest& a, const Sha256Digest& b) {
    return a.value_ == b.value_;
  }
  friend bool operator!=(const Sha256Digest& a, const Sha256Digest& b) {
    return !(a == b);
  }
  friend bool operator<(const Sha256Digest& a, const Sha256Digest& b) {
    return a.value_ < b.value_;
  }
  template <typename H>
  friend H AbslHashValue(H h, const Sha256Digest& d) {
    return H::combine(std::move(h), d.bytes());
  }

 private:
  std::array<uint8_t, kSize> value_{};
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_DIGEST_H_
