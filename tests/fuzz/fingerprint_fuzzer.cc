// Fingerprint parsing: the hex forms admins and Postfix write ("AB:CD:...",
// plain, any case, surrounded by whitespace). What parses must print back
// to the same digest.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "server/core/digest.h"
#include "tests/fuzz/fuzz_support.h"

DTRUST_FUZZ_QUIET_LOGS()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dtrust::Sha256Digest;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<Sha256Digest> digest =
      Sha256Digest::FromHex(input, "fuzz");
  if (digest.ok()) {
    const absl::StatusOr<Sha256Digest> again =
        Sha256Digest::FromHex(digest->ToHex(), "fuzz");
    dtrust::fuzz::Require(again.ok() && *again == *digest,
                          "a parsed fingerprint does not round-trip");
  }
  (void)Sha256Digest::FromBytes(input, "fuzz");
  return 0;
}
