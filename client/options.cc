#include "client/options.h"

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

void ParsedArgs::AddValue(absl::string_view name, std::string value) {
  options_[std::string(name)].push_back(std::move(value));
}

void ParsedArgs::AddPositional(std::string value) {
  positionals_.push_back(std::move(value));
}

}  // namespace dtrust::cli
