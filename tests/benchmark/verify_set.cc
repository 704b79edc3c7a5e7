#include "tests/benchmark/verify_set.h"

#include <algorithm>
#include <fstream>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace dtrust::bench {
namespace {

constexpr int kUnpublished = 4096;

}  // namespace

absl::StatusOr<VerifySet> VerifySet::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  VerifySet set;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty()) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(text, ' ', absl::SkipEmpty());
    const bool hex_ok =
        fields[0].size() == 64 &&
        std::all_of(fields[0].begin(), fields[0].end(),
                    [](char c) { return absl::ascii_isxdigit(c); });
    if (!hex_ok || fields.size() > 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number,
                       ": expected \"<64 hex digits> [mail domain]\", got \"",
                       absl::CHexEscape(text.substr(0, 100)), "\""));
    }
    Item& item = set.published_.emplace_back();
    const std::string bytes = absl::HexStringToBytes(fields[0]);
    std::copy(bytes.begin(), bytes.end(), item.sha256.begin());
    if (fields.size() == 2) item.domain = std::string(fields[1]);
  }
  if (set.published_.empty()) {
    return absl::NotFoundError(absl::StrCat(path, " lists no certificates"));
  }
  std::mt19937_64 random(20261128);
  set.unpublished_.resize(kUnpublished);
  for (std::array<char, 32>& digest : set.unpublished_) {
    for (char& c : digest) c = static_cast<char>(random());
  }
  return set;
}

}  // namespace dtrust::bench
