#include "server/core/directory.h"

namespace dtrust {

absl::string_view PinKindName(PinKind kind) {
  switch (kind) {
    case PinKind::kCertificate:
      return "certificate";
    case PinKind::kPublicKey:
      return "public-key";
  }
  return "certificate";
}

std::optional<PinKind> PinKindFromName(absl::string_view name) {
  if (name == "certificate") return PinKind::kCertificate;
  if (name == "public-key") return PinKind::kPublicKey;
  return std::nullopt;
}

}  // namespace dtrust
