// Certificates made in-process for tests (OpenSSL), so no fixture files age.
#ifndef DTRUST_TESTS_TESTING_TEST_CERTS_H_
#define DTRUST_TESTS_TESTING_TEST_CERTS_H_

#include <cstdint>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dtrust::testing {

struct CertSpec {
  std::string common_name = "mx1.org-b.example";
  // Issuer CN; empty means self-signed (issuer = subject).
  std::string issuer_common_name{};
  absl::Time not_before = absl::Now() - absl::Hours(1);
  absl::Time not_after = absl::Now() + absl::Hours(24 * 365);
  uint64_t serial = 0;  // 0: random.
  // PEM private key to certify; empty: a fresh ECDSA P-256 key.
  std::string key_pem{};
};

struct TestCert {
  std::string der{};
  std::string pem{};      // "-----BEGIN CERTIFICATE-----..." with newline.
  std::string key_pem{};  // PKCS#8 PEM of its private key.
};

// Makes a certificate signed by its own key (the issuer name may still be set
// to anything, which is how a forgery copying issuer + serial is made).
// Aborts the test binary on OpenSSL failure.
TestCert MakeTestCert(const CertSpec& spec = {});

// Writes `contents` to a new file under a fresh temporary directory; returns
// its path. The directory is removed when the process exits normally.
std::string WriteTempFile(const std::string& name, const std::string& contents);

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_TEST_CERTS_H_
