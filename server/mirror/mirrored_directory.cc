#include "server/mirror/mirrored_directory.h"

#include "server/base/status_macros.h"

namespace dtrust {

absl::StatusOr<std::vector<ServerRecord>> MirroredDirectory::FindByDigest(
    const Sha256Digest* cert_sha256, const Sha256Digest* spki_sha256) {
  DTRUST_RETURN_IF_ERROR(mirror_->CheckServing());
  return mirror_->index().Read()->FindByDigest(cert_sha256, spki_sha256);
}

absl::StatusOr<std::vector<ServerRecord>> MirroredDirectory::FindServers(
    const ServerFilter& filter) {
  DTRUST_RETURN_IF_ERROR(mirror_->CheckServing());
  return mirror_->index().Read()->FindServers(filter);
}

absl::Status MirroredDirectory::CreateServer(
    absl::string_view name, const std::vector<std::string>& domains) {
  DTRUST_RETURN_IF_ERROR(DirectoryWrapper::CreateServer(name, domains));
  mirror_->index().Write()->AddServerDomains(name, domains);
  return absl::OkStatus();
}

absl::Status MirroredDirectory::AddDomains(
    absl::string_view server, const std::vector<std::string>& domains) {
  DTRUST_RETURN_IF_ERROR(DirectoryWrapper::AddDomains(server, domains));
  mirror_->index().Write()->AddServerDomains(server, domains);
  return absl::OkStatus();
}

absl::Status MirroredDirectory::AddPin(absl::string_view server,
                                       const PinRecord& pin) {
  DTRUST_RETURN_IF_ERROR(DirectoryWrapper::AddPin(server, pin));
  mirror_->index().Write()->PutPinByName(server, pin);
  return absl::OkStatus();
}

absl::Status MirroredDirectory::UpdatePin(absl::string_view server,
                                          const PinRecord& pin) {
  DTRUST_RETURN_IF_ERROR(DirectoryWrapper::UpdatePin(server, pin));
  mirror_->index().Write()->PutPinByName(server, pin);
  return absl::OkStatus();
}

absl::Status MirroredDirectory::RemovePin(absl::string_view server,
                                          const Sha256Digest& cert_sha256) {
  const absl::Status removed = DirectoryWrapper::RemovePin(server, cert_sha256);
  if (removed.ok() || absl::IsNotFound(removed)) {
    mirror_->index().Write()->RemovePinByName(server, cert_sha256);
  }
  return removed;
}

absl::Status MirroredDirectory::RemoveServer(absl::string_view name) {
  const absl::Status removed = DirectoryWrapper::RemoveServer(name);
  if (removed.ok() || absl::IsNotFound(removed)) {
    mirror_->index().Write()->RemoveServerByName(name);
  }
  return removed;
}

absl::StatusOr<std::vector<DomainPolicy>>
MirroredDirectory::ListDomainPolicies() {
  DTRUST_RETURN_IF_ERROR(mirror_->CheckServing());
  return mirror_->index().Read()->ListDomainPolicies();
}

absl::StatusOr<std::optional<DomainPolicy>> MirroredDirectory::GetDomainPolicy(
    absl::string_view domain) {
  DTRUST_RETURN_IF_ERROR(mirror_->CheckServing());
  return mirror_->index().Read()->GetDomainPolicy(domain);
}

absl::Status MirroredDirectory::PutDomainPolicy(const DomainPolicy& policy) {
  DTRUST_RETURN_IF_ERROR(DirectoryWrapper::PutDomainPolicy(policy));
  mirror_->index().Write()->PutDomainPolicyByName(policy);
  return absl::OkStatus();
}

absl::Status MirroredDirectory::RemoveDomainPolicy(absl::string_view domain) {
  const absl::Status removed = DirectoryWrapper::RemoveDomainPolicy(domain);
  if (removed.ok() || absl::IsNotFound(removed)) {
    mirror_->index().Write()->RemoveDomainPolicyByName(domain);
  }
  return removed;
}

}  // namespace dtrust
