#include "server/mirror/read_only_directory.h"

#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"

namespace dtrust {

absl::StatusOr<std::vector<ServerRecord>> ReadOnlyDirectory::FindByDigest(
    const Sha256Digest* cert_sha256, const Sha256Digest* spki_sha256) {
  DTRUST_RETURN_IF_ERROR(mirror_->CheckServing());
  return mirror_->index().Read()->FindByDigest(cert_sha256, spki_sha256);
}

absl::StatusOr<std::optional<ServerRecord>> ReadOnlyDirectory::GetServer(
    absl::string_view name) {
  ServerFilter filter;
  filter.server = std::string(name);
  DTRUST_ASSIGN_OR_RETURN(std::vector<ServerRecord> servers,
                          FindServers(filter));
  if (servers.empty()) return std::nullopt;
  return std::move(servers.front());
}

absl::StatusOr<std::vector<ServerRecord>> ReadOnlyDirectory::ListServers(
    const ServerFilter& filter) {
  return FindServers(filter);
}

absl::StatusOr<std::vector<ServerRecord>> ReadOnlyDirectory::FindServers(
    const ServerFilter& filter) {
  DTRUST_RETURN_IF_ERROR(mirror_->CheckServing());
  return mirror_->index().Read()->FindServers(filter);
}

absl::StatusOr<std::vector<DomainPolicy>>
ReadOnlyDirectory::ListDomainPolicies() {
  DTRUST_RETURN_IF_ERROR(mirror_->CheckServing());
  return mirror_->index().Read()->ListDomainPolicies();
}

absl::StatusOr<std::optional<DomainPolicy>> ReadOnlyDirectory::GetDomainPolicy(
    absl::string_view domain) {
  DTRUST_RETURN_IF_ERROR(mirror_->CheckServing());
  return mirror_->index().Read()->GetDomainPolicy(domain);
}

absl::Status ReadOnlyDirectory::Refuse() const {
  return absl::FailedPreconditionError(
      absl::StrCat("the directory is mapped read-only (", reason_,
                   "); publish with the directory's own tools"));
}

absl::Status ReadOnlyDirectory::CreateServer(absl::string_view,
                                             const std::vector<std::string>&) {
  return Refuse();
}

absl::Status ReadOnlyDirectory::AddDomains(absl::string_view,
                                           const std::vector<std::string>&) {
  return Refuse();
}

absl::Status ReadOnlyDirectory::AddPin(absl::string_view, const PinRecord&) {
  return Refuse();
}

absl::Status ReadOnlyDirectory::UpdatePin(absl::string_view, const PinRecord&) {
  return Refuse();
}

absl::Status ReadOnlyDirectory::RemovePin(absl::string_view,
                                          const Sha256Digest&) {
  return Refuse();
}

absl::Status ReadOnlyDirectory::RemoveServer(absl::string_view) {
  return Refuse();
}

absl::Status ReadOnlyDirectory::PutDomainPolicy(const DomainPolicy&) {
  return Refuse();
}

absl::Status ReadOnlyDirectory::RemoveDomainPolicy(absl::string_view) {
  return Refuse();
}

}  // namespace dtrust
