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

absl::string_view PinProvenanceName(PinProvenance provenance) {
  switch (provenance) {
    case PinProvenance::kAsserted:
      return "asserted";
    case PinProvenance::kPossessionProven:
      return "possession-proven";
  }
  return "asserted";
}

std::optional<PinProvenance> PinProvenanceFromName(absl::string_view name) {
  if (name == "asserted") return PinProvenance::kAsserted;
  if (name == "possession-proven") return PinProvenance::kPossessionProven;
  return std::nullopt;
}

}  // namespace dtrust
