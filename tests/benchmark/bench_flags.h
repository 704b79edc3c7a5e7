// The benchmark programs' command lines, on CLI11.
#ifndef DTRUST_TESTS_BENCHMARK_BENCH_FLAGS_H_
#define DTRUST_TESTS_BENCHMARK_BENCH_FLAGS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/string_view.h"

namespace dtrust::bench {

// Prints "PROGRAM: PROBLEM (see PROGRAM --help)" to stderr and exits with
// status 2 (bad usage).
[[noreturn]] void UsageError(absl::string_view program,
                             absl::string_view problem);

// Parses argv with `app` (named after the program, its flags declared):
// --help prints the help CLI11 generates from them and exits 0; bad usage
// (an unknown flag or stray argument, a missing or invalid value) is a
// UsageError.
void ParseFlagsOrExit(CLI::App& app, int argc, char** argv);

// Checks that an option's value is a positive integer.
const CLI::Validator& PositiveInteger();

// Declares option `name` taking a positive integer into `value`, shown in
// the help as `name value_name`.
template <typename T>
CLI::Option* AddPositiveOption(CLI::App& app, const std::string& name, T& value,
                               const std::string& value_name,
                               const std::string& help) {
  return app.add_option(name, value, help)
      ->type_name(value_name)
      ->check(PositiveInteger());
}

}  // namespace dtrust::bench

#endif  // DTRUST_TESTS_BENCHMARK_BENCH_FLAGS_H_
