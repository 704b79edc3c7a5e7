// The dtrust CLI's options: how a command declares one, and the values a
// command line gave (command_line.h parses it with CLI11).
#ifndef DTRUST_CLIENT_OPTIONS_H_
#define DTRUST_CLIENT_OPTIONS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace dtrust::cli {

// One long option "--name", declared once: parsing and help come from it.
struct OptionSpec {
  absl::string_view name;             // Without the leading "--".
  absl::string_view value_name = "";  // E.g. "FQDN"; empty for a flag.
  // For the help, after the option; may span lines ('\n').
  absl::string_view description = "";
  bool repeatable = false;  // Otherwise giving it twice is an error.

  bool takes_value() const { return !value_name.empty(); }
};

// The options and positional arguments of one command line. Thread-compatible
// value type.
class ParsedArgs {
 public:
  bool Has(absl::string_view name) const;
  // The option's value (the last one for repeatable options), or nullopt if
  // it was not given.
  std::optional<std::string> Value(absl::string_view name) const;
  // Every value given for the option, in order; empty if not given.
  std::vector<std::string> Values(absl::string_view name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

  // Records one occurrence of option `name`; a flag's value is "".
  void AddValue(absl::string_view name, std::string value);
  void AddPositional(std::string value);

 private:
  // Option name -> values.
  std::map<std::string, std::vector<std::string>, std::less<>> options_;
  std::vector<std::string> positionals_;
};

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_OPTIONS_H_
