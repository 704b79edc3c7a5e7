// The Postfix policy delegation parser (a byte stream of name=value lines
// and empty-line-terminated requests) and the query built from a request.
// The stream may be split anywhere: split in two at a point the first byte
// chooses, it must give exactly what it gives in one piece.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/postfix/policy_protocol.h"
#include "tests/fuzz/fuzz_support.h"

DTRUST_FUZZ_QUIET_LOGS()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view stream(reinterpret_cast<const char*>(data) + 1,
                                 size - 1);
  const size_t split = data[0] % (stream.size() + 1);
  const std::vector<dtrust::PolicyAttributes> requests =
      dtrust::fuzz::ReadWholeAndSplit<dtrust::PolicyRequestReader,
                                      dtrust::PolicyAttributes>(stream, split);
  for (const dtrust::PolicyAttributes& request : requests) {
    (void)dtrust::PolicyQueryFromAttributes(request);
  }
  return 0;
}
