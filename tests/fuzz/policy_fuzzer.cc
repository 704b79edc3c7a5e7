// The Postfix policy delegation parser (a byte stream of name=value lines
// and empty-line-terminated requests) and the query built from a request.
// The stream may be split anywhere: split in two at a point the first byte
// chooses, it must give exactly what it gives in one piece.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/postfix/policy_protocol.h"
#include "tests/fuzz/fuzz_support.h"

DTRUST_FUZZ_QUIET_LOGS()

namespace {

using dtrust::PolicyAttributes;
using dtrust::PolicyRequestReader;

// Feeds `parts` in order, stopping at the first error.
absl::Status Read(const std::vector<absl::string_view>& parts,
                  std::vector<PolicyAttributes>* requests) {
  PolicyRequestReader reader;
  for (const absl::string_view part : parts) {
    absl::Status status = reader.Consume(part, requests);
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
  std::vector<PolicyAttributes> whole;
  std::vector<PolicyAttributes> in_parts;
  const absl::Status whole_status = Read({stream}, &whole);
  const absl::Status parts_status =
      Read({stream.substr(0, split), stream.substr(split)}, &in_parts);
  dtrust::fuzz::Require(whole_status.ok() == parts_status.ok(),
                        "a split stream errs differently");
  dtrust::fuzz::Require(whole == in_parts,
                        "a split stream gives other requests");
  for (const PolicyAttributes& request : whole) {
    (void)dtrust::PolicyQueryFromAttributes(request);
  }
  return 0;
}
