// Reading certificate and key files as admins get them: PEM (one or many
// blocks), DER, or PKCS#12.
#ifndef DTRUST_CLIENT_CREDENTIALS_H_
#define DTRUST_CLIENT_CREDENTIALS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/base/openssl_types.h"

namespace dtrust::cli {

// Largest file ReadCredentialsFile reads (a PKCS#12 with a long chain fits).
inline constexpr size_t kMaxCredentialsFileBytes = 1024 * 1024;

// What one certificate or key file holds. Move-only.
struct Credentials {
  std::string format{};  // "PEM", "DER" or "PKCS#12".
  // In file order; for PKCS#12 the certificate that matches the key (if
  // any) comes first.
  std::vector<X509Ptr> certificates{};
  EvpPkeyPtr key{};  // Null if the file holds none.
};

// Reads `path`, which holds:
//  - PEM: CERTIFICATE blocks and at most one private key block (PRIVATE
//    KEY, ENCRYPTED PRIVATE KEY, RSA/EC PRIVATE KEY, legacy-encrypted
//    ones too), in any order; EC PARAMETERS blocks and text between blocks
//    (e.g. the "Bag Attributes" `openssl pkcs12 -nodes` writes) are
//    ignored; any other block (a CERTIFICATE REQUEST, a PUBLIC KEY, ...) is
//    an error;
//  - DER: exactly one certificate or one unencrypted private key;
//  - PKCS#12 (.p12/.pfx): its private key and certificates.
// `password` decrypts PKCS#12 files and encrypted PEM keys; without one a
// PKCS#12 file is opened if it has no password or the empty one.
// InvalidArgument naming the file if it cannot be read, is larger than
// kMaxCredentialsFileBytes, is none of the above, holds neither a
// certificate nor a key, holds several keys, or needs a (different)
// password.
absl::StatusOr<Credentials> ReadCredentialsFile(
    const std::string& path, const std::optional<std::string>& password);

// ReadCredentialsFile for bytes already read; errors name `source`.
absl::StatusOr<Credentials> ParseCredentials(
    absl::string_view data, const std::optional<std::string>& password,
    absl::string_view source);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_CREDENTIALS_H_
