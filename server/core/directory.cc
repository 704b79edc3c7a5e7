#include "server/core/directory.h"

#include "server/base/status_macros.h"

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

absl::StatusOr<std::vector<ServerRecord>> DirectoryWrapper::FindByDigest(
    const Sha256Digest* cert_sha256, const Sha256Digest* spki_sha256) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->FindByDigest(cert_sha256, spki_sha256);
}

absl::StatusOr<std::optional<ServerRecord>> DirectoryWrapper::GetServer(
    absl::string_view name) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->GetServer(name);
}

absl::StatusOr<std::vector<ServerRecord>> DirectoryWrapper::ListServers(
    const ServerFilter& filter) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->ListServers(filter);
}

absl::StatusOr<std::vector<ServerRecord>> DirectoryWrapper::FindServers(
    const ServerFilter& filter) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->FindServers(filter);
}

absl::Status DirectoryWrapper::CreateServer(
    absl::string_view name, const std::vector<std::string>& domains) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->CreateServer(name, domains);
}

absl::Status DirectoryWrapper::AddDomains(
    absl::string_view server, const std::vector<std::string>& domains) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->AddDomains(server, domains);
}

absl::Status DirectoryWrapper::AddPin(absl::string_view server,
                                      const PinRecord& pin) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->AddPin(server, pin);
}

absl::Status DirectoryWrapper::UpdatePin(absl::string_view server,
                                         const PinRecord& pin) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->UpdatePin(server, pin);
}

absl::Status DirectoryWrapper::RemovePin(absl::string_view server,
                                         const Sha256Digest& cert_sha256) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->RemovePin(server, cert_sha256);
}

absl::Status DirectoryWrapper::RemoveServer(absl::string_view name) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->RemoveServer(name);
}

absl::StatusOr<std::vector<DomainPolicy>>
DirectoryWrapper::ListDomainPolicies() {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->ListDomainPolicies();
}

absl::StatusOr<std::optional<DomainPolicy>> DirectoryWrapper::GetDomainPolicy(
    absl::string_view domain) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->GetDomainPolicy(domain);
}

absl::Status DirectoryWrapper::PutDomainPolicy(const DomainPolicy& policy) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->PutDomainPolicy(policy);
}

absl::Status DirectoryWrapper::RemoveDomainPolicy(absl::string_view domain) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const target, Target());
  return target->RemoveDomainPolicy(domain);
}

}  // namespace dtrust
