#include "client/args.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dtrust::cli {

bool ParsedArgs::Has(absl::string_view name) const {
  return options_.find(name) != options_.end();
}

std::optional<std::string> ParsedArgs::Value(absl::string_view name) const {
  auto it = options_.find(name);
  if (it == options_.end()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::Values(absl::string_view name) const {
  auto it = options_.find(name);
  if (it == options_.end()) return {};
  return it->second;
}

absl::StatusOr<ParsedArgs> ParseArgs(absl::Span<const std::string> args,
                                     absl::Span<const OptionSpec> specs) {
  ParsedArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") {
      parsed.positionals_.insert(parsed.positionals_.end(),
                                 args.begin() + i + 1, args.end());
      break;
    }
    if (arg == "-h") arg = "--help";
    if (arg.size() < 2 || arg[0] != '-') {
      parsed.positionals_.emplace_back(arg);
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option ", arg, " (options are --long-names)"));
    }
    absl::string_view name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (size_t eq = name.find('='); eq != absl::string_view::npos) {
      inline_value = std::string(name.substr(eq + 1));
      name = name.substr(0, eq);
    }
    auto spec =
        std::find_if(specs.begin(), specs.end(),
                     [name](const OptionSpec& s) { return s.name == name; });
    if (spec == specs.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option --", name));
    }
    std::string value;
    if (spec->takes_value) {
      if (inline_value.has_value()) {
        value = *std::move(inline_value);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("option --", name, " needs a value"));
      }
    } else if (inline_value.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("option --", name, " takes no value"));
    }
    std::vector<std::string>& values = parsed.options_[std::string(name)];
    if (!values.empty() && !spec->repeatable) {
      return absl::InvalidArgumentError(
          absl::StrCat("option --", name, " given more than once"));
    }
    values.push_back(std::move(value));
  }
  return parsed;
}

}  // namespace dtrust::cli
