// RFC 4533 content synchronization messages as slapd sends them: the Sync
// State control on each entry, Sync Info intermediate responses, the Sync
// Done control; the first byte chooses which decoder reads the rest. A
// cookie dtrustd keeps must encode into a Sync Request control.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "server/ldap/sync_protocol.h"
#include "tests/fuzz/fuzz_support.h"

DTRUST_FUZZ_QUIET_LOGS()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view value(reinterpret_cast<const char*>(data) + 1,
                                size - 1);
  std::optional<std::string> cookie;
  switch (data[0] % 3) {
    case 0:
      if (const auto state = dtrust::DecodeSyncState(value); state.ok()) {
        cookie = state->cookie;
      }
      break;
    case 1:
      if (const auto info = dtrust::DecodeSyncInfo(value); info.ok()) {
        cookie = info->cookie;
      }
      break;
    default:
      if (const auto done = dtrust::DecodeSyncDone(value); done.ok()) {
        cookie = done->cookie;
      }
  }
  if (cookie.has_value()) {
    dtrust::fuzz::Require(dtrust::EncodeSyncRequest(cookie).ok(),
                          "a received cookie cannot be sent back");
  }
  return 0;
}
