// Certificate reading: one certificate as PEM or DER (verify, publish), and
// the ASN.1 walk the mirror uses (MatchingFacts must read what FromDer reads,
// with the same digest and dates). credentials_fuzzer reads the CLI's
// credential files.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "server/core/certificate.h"
#include "tests/fuzz/fuzz_support.h"

DTRUST_FUZZ_QUIET_LOGS()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dtrust::Certificate;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  (void)Certificate::FromPemOrDer(input, "fuzz");
  const absl::StatusOr<Certificate> der = Certificate::FromDer(input, "fuzz");
  const auto facts = Certificate::MatchingFacts(input, "fuzz");
  if (der.ok()) {
    // Equal for DER certificates (certificate.h). OpenSSL also reads some
    // that are not DER (e.g. a BIT STRING with unused bits that are not
    // zero) and hashes the key as it re-encodes it: then the SPKI digests
    // may differ, and the mirror falls back to FromDer (ldap_records.h).
    dtrust::fuzz::Require(facts.ok(),
                          "MatchingFacts refuses what FromDer reads");
    dtrust::fuzz::Require(facts->sha256 == der->sha256() &&
                              facts->not_before == der->not_before() &&
                              facts->not_after == der->not_after(),
                          "MatchingFacts disagrees with FromDer");
  }
  return 0;
}
