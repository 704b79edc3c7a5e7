// Signing proofs of possession in tests, as the CLI does
// (client/possession.cc).
#ifndef DTRUST_TESTS_TESTING_POSSESSION_SIGNER_H_
#define DTRUST_TESTS_TESTING_POSSESSION_SIGNER_H_

#include <string>

#include "absl/strings/string_view.h"

namespace dtrust::testing {

// EVP_DigestSign with SHA-256 of `message` with the PEM private key
// `key_pem`. Aborts the test binary on OpenSSL failure.
std::string SignWithKey(const std::string& key_pem, absl::string_view message);

// A fresh RSA 2048 private key as PKCS#8 PEM.
std::string RsaKeyPem();

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_POSSESSION_SIGNER_H_
