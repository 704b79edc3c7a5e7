// A private CA and server certificates made with the openssl command line,
// for tests of TLS to real servers (slapd).
#ifndef DTRUST_TESTS_TESTING_TEST_TLS_H_
#define DTRUST_TESTS_TESTING_TEST_TLS_H_

#include <string>

#include "absl/status/statusor.h"

namespace dtrust::testing {

// A certificate and its unencrypted private key, as PEM files.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
};

// Makes a self-signed CA (CN `name`, P-256, valid for two days) as
// DIR/NAME.pem and DIR/NAME.key. An error carries openssl's output.
absl::StatusOr<TlsFiles> MakeTestCa(const std::string& dir,
                                    const std::string& name);

// Issues a TLS server certificate signed by `ca` (CN `name`, P-256, two
// days, serverAuth) with `subject_alt_names` in openssl's syntax, e.g.
// "DNS:localhost,IP:127.0.0.1", as DIR/NAME.pem and DIR/NAME.key.
absl::StatusOr<TlsFiles> IssueTestServerCert(
    const std::string& dir, const std::string& name, const TlsFiles& ca,
    const std::string& subject_alt_names);

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_TEST_TLS_H_
