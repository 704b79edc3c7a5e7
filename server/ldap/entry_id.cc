#include "server/ldap/entry_id.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/base/hex.h"
#include "server/core/digest.h"

namespace dtrust {
namespace {

bool IsZero(const EntryUuid& uuid) {
  return std::all_of(uuid.begin(), uuid.end(),
                     [](uint8_t byte) { return byte == 0; });
}

EntryUuid HashToUuid(absl::string_view data) {
  const Sha256Digest digest = Sha256Digest::Of(data);
  EntryUuid uuid;
  std::memcpy(uuid.data(), digest.bytes().data(), uuid.size());
  return uuid;
}

// The 16 bytes of a text UUID, or false if `text` is not one.
bool ParseTextUuid(absl::string_view text, EntryUuid* uuid) {
  std::string digits;
  for (char c : text) {
    if (c == '-') continue;
    if (!absl::ascii_isxdigit(c) || digits.size() == 32) return false;
    digits.push_back(c);
  }
  if (digits.size() != 32 || text.front() == '-' || text.back() == '-') {
    return false;
  }
  for (size_t i = 0; i < uuid->size(); ++i) {
    (*uuid)[i] = static_cast<uint8_t>(HexDigitValue(digits[2 * i]) * 16 +
                                      HexDigitValue(digits[2 * i + 1]));
  }
  return true;
}

}  // namespace

EntryUuid EntryIdToUuid(absl::string_view value) {
  EntryUuid uuid{};
  if (value.size() == uuid.size()) {
    std::memcpy(uuid.data(), value.data(), uuid.size());
  } else if (!ParseTextUuid(value, &uuid)) {
    return HashToUuid(value);
  }
  return IsZero(uuid) ? HashToUuid(value) : uuid;
}

EntryUuid ChildUuid(const EntryUuid& parent, absl::string_view key) {
  return HashToUuid(absl::StrCat(
      absl::string_view(reinterpret_cast<const char*>(parent.data()),
                        parent.size()),
      key));
}

}  // namespace dtrust
