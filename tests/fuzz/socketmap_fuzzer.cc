// Postfix socketmap netstrings ("LEN:DATA,") and the "name key" requests in
// them. The stream may be split anywhere (as in policy_fuzzer), and every
// payload read must be what FormatNetstring writes back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/postfix/socketmap_protocol.h"
#include "tests/fuzz/fuzz_support.h"

DTRUST_FUZZ_QUIET_LOGS()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view stream(reinterpret_cast<const char*>(data) + 1,
                                 size - 1);
  const size_t split = data[0] % (stream.size() + 1);
  const std::vector<std::string> payloads =
      dtrust::fuzz::ReadWholeAndSplit<dtrust::NetstringReader, std::string>(
          stream, split);
  for (const std::string& payload : payloads) {
    std::vector<std::string> again;
    dtrust::NetstringReader reader;
    dtrust::fuzz::Require(
        reader.Consume(dtrust::FormatNetstring(payload), &again).ok() &&
            again.size() == 1 && again[0] == payload,
        "a payload does not round-trip through FormatNetstring");
    (void)dtrust::ParseSocketmapRequest(payload);
  }
  return 0;
}
