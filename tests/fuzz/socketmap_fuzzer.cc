// Postfix socketmap netstrings ("LEN:DATA,") and the "name key" requests in
// them. The stream may be split anywhere (as in policy_fuzzer), and every
// payload read must be what FormatNetstring writes back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/postfix/socketmap_protocol.h"
#include "tests/fuzz/fuzz_support.h"

DTRUST_FUZZ_QUIET_LOGS()

namespace {

using dtrust::NetstringReader;

// Feeds `parts` in order, stopping at the first error.
absl::Status Read(const std::vector<absl::string_view>& parts,
                  std::vector<std::string>* payloads) {
  NetstringReader reader;
  for (const absl::string_view part : parts) {
    absl::Status status = reader.Consume(part, payloads);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view stream(reinterpret_cast<const char*>(data) + 1,
                                 size - 1);
  const size_t split = data[0] % (stream.size() + 1);
  std::vector<std::string> whole;
  std::vector<std::string> in_parts;
  const absl::Status whole_status = Read({stream}, &whole);
  const absl::Status parts_status =
      Read({stream.substr(0, split), stream.substr(split)}, &in_parts);
  dtrust::fuzz::Require(whole_status.ok() == parts_status.ok(),
                        "a split stream errs differently");
  dtrust::fuzz::Require(whole == in_parts,
                        "a split stream gives other netstrings");
  for (const std::string& payload : whole) {
    std::vector<std::string> again;
    NetstringReader reader;
    dtrust::fuzz::Require(
        reader.Consume(dtrust::FormatNetstring(payload), &again).ok() &&
            again.size() == 1 && again[0] == payload,
        "a payload does not round-trip through FormatNetstring");
    (void)dtrust::ParseSocketmapRequest(payload);
  }
  return 0;
}
