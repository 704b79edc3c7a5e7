// Figures for the benchmark programs: quantiles of one run's latencies, the
// median and spread of a figure over several rounds, and the bits of JSON
// they print. Pure functions; thread-compatible.
#ifndef DTRUST_TESTS_BENCHMARK_BENCH_STATS_H_
#define DTRUST_TESTS_BENCHMARK_BENCH_STATS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace dtrust::bench {

// The q-quantile (0 <= q <= 1) of `values` by the nearest-rank method (the
// smallest value with at least q of all values at or below it); sorts
// `values`. 0 for no values.
double Quantile(std::vector<double>& values, double q);

// A figure over several rounds: its median (the mean of the middle two for
// an even count) and range. All 0 for no values.
struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
};
Spread SpreadOf(std::vector<double> values);

// "1234 (1200–1300)" with `decimals` digits after the point.
std::string FormatSpread(const Spread& spread, int decimals);
// {"median":M,"min":A,"max":B}
std::string SpreadJson(const Spread& spread);

// `text` as a JSON string literal, quotes included.
std::string JsonString(absl::string_view text);

}  // namespace dtrust::bench

#endif  // DTRUST_TESTS_BENCHMARK_BENCH_STATS_H_
