// The credential files `dtrust import`, `publish` and `selfsign` read: PEM
// bundles of certificates and keys (encrypted keys too), DER certificates
// and keys, PKCS#12 (slow by design: each file costs a key derivation per
// password tried, hence its own harness). Tried without a password and with
// "fuzz", the password of the encrypted seeds.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "client/credentials.h"
#include "tests/fuzz/fuzz_support.h"

DTRUST_FUZZ_QUIET_LOGS()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  (void)dtrust::cli::ParseCredentials(input, std::nullopt, "fuzz");
  (void)dtrust::cli::ParseCredentials(input, std::string("fuzz"), "fuzz");
  return 0;
}
