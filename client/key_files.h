// Private keys for the lifecycle commands: generation, description, PEM.
#ifndef DTRUST_CLIENT_KEY_FILES_H_
#define DTRUST_CLIENT_KEY_FILES_H_

#include <openssl/evp.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/base/openssl_types.h"
#include "server/core/digest.h"

namespace dtrust::cli {

// The keys `dtrust request` and `dtrust selfsign` make.
enum class KeyType { kEcP256, kRsa2048, kRsa3072, kRsa4096 };

// "ec-p256" (the default), "rsa-2048", "rsa-3072" or "rsa-4096";
// InvalidArgument naming --key-type otherwise.
absl::StatusOr<KeyType> ParseKeyType(absl::string_view text);

// A fresh key pair from OpenSSL's default random generator. Internal if
// OpenSSL fails.
absl::StatusOr<EvpPkeyPtr> GenerateKey(KeyType type);

// What a key is, in --key-type's words where it fits: "ec-p256",
// "ec-p384", "ec-p521", "rsa-2048", ...; otherwise "ec-CURVE", "rsa-BITS"
// or OpenSSL's algorithm name in lower case (e.g. "ed25519").
std::string DescribeKey(const EVP_PKEY* key);

// True for RSA keys (which also encipher, so keyUsage differs).
bool IsRsaKey(const EVP_PKEY* key);

// The digest to sign certificates and requests with for `key`: SHA-256, or
// none for algorithms with a built-in one (Ed25519, Ed448).
const EVP_MD* SigningDigest(const EVP_PKEY* key);

// The private key as unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"),
// the form Postfix's smtpd_tls_key_file / smtpd_tls_chain_files read.
absl::StatusOr<std::string> PrivateKeyPem(const EVP_PKEY* key);

// SHA-256 of the key's DER SubjectPublicKeyInfo: equal to a certificate's
// spki-sha256 exactly when the certificate is for this key.
absl::StatusOr<Sha256Digest> PublicKeySha256(const EVP_PKEY* key);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_KEY_FILES_H_
