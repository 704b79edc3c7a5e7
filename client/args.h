// Command-line option parsing for the dtrust CLI.
#ifndef DTRUST_CLIENT_ARGS_H_
#define DTRUST_CLIENT_ARGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace dtrust::cli {

// A long option "--name" the parser accepts.
struct OptionSpec {
  absl::string_view name;  // Without the leading "--".
  bool takes_value = false;
  bool repeatable = false;  // Otherwise giving it twice is an error.
};

// The result of ParseArgs. Thread-compatible value type.
class ParsedArgs {
 public:
  bool Has(absl::string_view name) const;
  // The option's value (the last one for repeatable options), or nullopt if
  // it was not given.
  std::optional<std::string> Value(absl::string_view name) const;
  // Every value given for the option, in order; empty if not given.
  std::vector<std::string> Values(absl::string_view name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  friend absl::StatusOr<ParsedArgs> ParseArgs(
      absl::Span<const std::string> args, absl::Span<const OptionSpec> specs);

  // Option name -> values; flags without a value get one empty string.
  std::map<std::string, std::vector<std::string>, std::less<>> options_;
  std::vector<std::string> positionals_;
};

// Parses GNU-style long options ("--name VALUE" or "--name=VALUE"), which may
// come before, between or after positional arguments. "--" ends options; "-"
// alone is a positional; "-h" is read as "--help".
// InvalidArgument naming the option for an unknown option, a missing or
// unexpected value, or a non-repeatable option given twice.
absl::StatusOr<ParsedArgs> ParseArgs(absl::Span<const std::string> args,
                                     absl::Span<const OptionSpec> specs);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_ARGS_H_
