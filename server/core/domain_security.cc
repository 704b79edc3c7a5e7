#include "server/core/domain_security.h"

namespace dtrust {

absl::string_view SecureModeName(SecureMode mode) {
  switch (mode) {
    case SecureMode::kOff:
      return "off";
    case SecureMode::kEnforce:
      return "enforce";
    case SecureMode::kTesting:
      return "testing";
  }
  return "off";
}

std::optional<SecureMode> SecureModeFromName(absl::string_view name) {
  if (name == "off") return SecureMode::kOff;
  if (name == "enforce") return SecureMode::kEnforce;
  if (name == "testing") return SecureMode::kTesting;
  return std::nullopt;
}

namespace {

// The order of strictness: off, testing, enforce.
int Strictness(SecureMode mode) {
  switch (mode) {
    case SecureMode::kOff:
      return 0;
    case SecureMode::kTesting:
      return 1;
    case SecureMode::kEnforce:
      return 2;
  }
  return 2;
}

}  // namespace

SecureMode Stricter(SecureMode a, SecureMode b) {
  return Strictness(a) >= Strictness(b) ? a : b;
}

}  // namespace dtrust
