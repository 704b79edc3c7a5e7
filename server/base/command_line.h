// Helpers for command lines on CLI11 (target dtrust_command_line), shared by
// dtrustd, the dtrust CLI and the benchmarks.
#ifndef DTRUST_SERVER_BASE_COMMAND_LINE_H_
#define DTRUST_SERVER_BASE_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace dtrust {

// Declares a repeatable option `name` on `app`: every occurrence takes
// exactly one value ("--name VALUE" or "--name=VALUE") and appends it to
// `values`, so a second occurrence is never lost and an argument after the
// value is never swallowed as a second value.
template <typename T>
CLI::Option* AddRepeatableOption(CLI::App& app, const std::string& name,
                                 std::vector<T>& values,
                                 const std::string& help) {
  return app.add_option(name, values, help)
      ->take_all()
      ->expected(1)
      ->allow_extra_args(false);
}

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_COMMAND_LINE_H_
