// Entries for tests of the mirror and of what reads or feeds it: entry
// UUIDs by number and pins named by a word, so a test says Pin("a") and
// TestUuid(3) instead of 32 bytes.
#ifndef DTRUST_TESTS_TESTING_MIRROR_TEST_DATA_H_
#define DTRUST_TESTS_TESTING_MIRROR_TEST_DATA_H_

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/core/directory.h"
#include "server/mirror/entry_uuid.h"

namespace dtrust::testing {

// A non-zero entryUUID, distinct for each n in [0, 65535].
inline EntryUuid TestUuid(int n) {
  EntryUuid uuid{};
  uuid[0] = static_cast<uint8_t>(n);
  uuid[1] = static_cast<uint8_t>(n >> 8);
  uuid[15] = 1;
  return uuid;
}

// A pin of the certificate named `cert`: its digest is SHA-256 of the word,
// its key's that of `key` (default "key of <cert>"); the certificate valid
// from 2023-11-14 to 2027-01-15.
inline PinRecord TestPin(absl::string_view cert, absl::string_view key = "") {
  PinRecord pin;
  pin.cert_sha256 = Sha256Digest::Of(cert);
  pin.spki_sha256 =
      Sha256Digest::Of(key.empty() ? absl::StrCat("key of ", cert) : key);
  pin.not_before = absl::FromUnixSeconds(1'700'000'000);
  pin.not_after = absl::FromUnixSeconds(1'800'000'000);
  return pin;
}

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_MIRROR_TEST_DATA_H_
