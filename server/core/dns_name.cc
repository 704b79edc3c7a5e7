#include "server/core/dns_name.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dtrust {
namespace {

constexpr size_t kMaxNameLength = 253;
constexpr size_t kMaxLabelLength = 63;

std::string Printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return absl::StrCat("'", std::string(1, c), "'");
  return absl::StrCat("byte 0x", absl::Hex(u, absl::kZeroPad2));
}

}  // namespace

absl::StatusOr<std::string> NormalizeDnsName(absl::string_view name,
                                             absl::string_view what) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  }
  if (name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", name.substr(0, 40), "...\" is ", name.size(),
                     " characters long; a DNS name has at most 253"));
  }
  std::string normalized = absl::AsciiStrToLower(name);
  size_t label_start = 0;
  for (size_t i = 0; i <= normalized.size(); ++i) {
    if (i == normalized.size() || normalized[i] == '.') {
      const size_t length = i - label_start;
      if (length == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            what, " \"", name, "\" has an empty label at position ", i + 1));
      }
      if (length > kMaxLabelLength) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " \"", name, "\" has a label of ", length,
                         " characters at position ", label_start + 1,
                         "; a DNS label has at most 63"));
      }
      if (normalized[label_start] == '-' || normalized[i - 1] == '-') {
        return absl::InvalidArgumentError(absl::StrCat(
            what, " \"", name, "\": a label may not start or end with '-' (",
            "position ", normalized[label_start] == '-' ? label_start + 1 : i,
            ")"));
      }
      label_start = i + 1;
      continue;
    }
    const char c = normalized[i];
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
      std::string hint;
      if (c == '*') hint = " (wildcards are not allowed)";
      if (static_cast<unsigned char>(c) >= 0x80) {
        hint = " (write internationalized names as A-labels, xn--...)";
      }
      return absl::InvalidArgumentError(absl::StrCat(
          what, " \"", name, "\": ", Printable(name[i]), " at position ", i + 1,
          " is not allowed in a DNS name (letters, digits, '-' and '.')",
          hint));
    }
  }
  return normalized;
}

bool IsInDomain(absl::string_view name, absl::string_view domain) {
  return name == domain ||
         (name.size() > domain.size() && absl::EndsWith(name, domain) &&
          name[name.size() - domain.size() - 1] == '.');
}

}  // namespace dtrust
