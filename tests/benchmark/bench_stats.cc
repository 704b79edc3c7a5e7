#include "tests/benchmark/bench_stats.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dtrust::bench {

double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(q * static_cast<double>(values.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

Spread SpreadOf(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  const double median =
      n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {median, values.front(), values.back()};
}

std::string FormatSpread(const Spread& spread, int decimals) {
  return absl::StrFormat("%.*f (%.*f–%.*f)", decimals, spread.median, decimals,
                         spread.min, decimals, spread.max);
}

std::string SpreadJson(const Spread& spread) {
  return absl::StrFormat(R"({"median":%.6g,"min":%.6g,"max":%.6g})",
                         spread.median, spread.min, spread.max);
}

std::string JsonString(absl::string_view text) {
  std::string json = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      absl::StrAppend(&json, "\\", std::string(1, c));
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&json, absl::StrFormat("\\u%04x", c));
    } else {
      json.push_back(c);
    }
  }
  json.push_back('"');
  return json;
}

}  // namespace dtrust::bench
