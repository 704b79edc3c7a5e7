#include "server/core/lazy_directory.h"

#include "absl/strings/str_cat.h"
#include "server/core/status_macros.h"

namespace dtrust {

absl::StatusOr<Directory*> LazyDirectory::Get() {
  if (Directory* directory = connected_.load(std::memory_order_acquire)) {
    return directory;
  }
  {
    absl::MutexLock lock(&mutex_);
    if (directory_ != nullptr) return directory_.get();
    if (connecting_ || clock_->Now() - last_attempt_ < retry_interval_) {
      return absl::UnavailableError(absl::StrCat(
          "the directory is not connected yet: ",
          last_error_.ok() ? "connecting" : last_error_.message()));
    }
    connecting_ = true;
    last_attempt_ = clock_->Now();
  }
  absl::StatusOr<std::unique_ptr<Directory>> connected = connect_();
  absl::MutexLock lock(&mutex_);
  connecting_ = false;
  if (!connected.ok()) {
    last_error_ = connected.status();
    return absl::UnavailableError(absl::StrCat(
        "the directory is not connected yet: ", last_error_.message()));
  }
  directory_ = *std::move(connected);
  connected_.store(directory_.get(), std::memory_order_release);
  return directory_.get();
}

absl::StatusOr<std::vector<ServerRecord>> LazyDirectory::FindByDigest(
    const Sha256Digest* cert_sha256, const Sha256Digest* spki_sha256) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->FindByDigest(cert_sha256, spki_sha256);
}

absl::StatusOr<std::optional<ServerRecord>> LazyDirectory::GetServer(
    absl::string_view name) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->GetServer(name);
}

absl::StatusOr<std::vector<ServerRecord>> LazyDirectory::ListServers(
    const ServerFilter& filter) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->ListServers(filter);
}

absl::StatusOr<std::vector<ServerRecord>> LazyDirectory::FindServers(
    const ServerFilter& filter) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->FindServers(filter);
}

absl::Status LazyDirectory::CreateServer(
    absl::string_view name, const std::vector<std::string>& domains) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->CreateServer(name, domains);
}

absl::Status LazyDirectory::AddDomains(
    absl::string_view server, const std::vector<std::string>& domains) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->AddDomains(server, domains);
}

absl::Status LazyDirectory::AddPin(absl::string_view server,
                                   const PinRecord& pin) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->AddPin(server, pin);
}

absl::Status LazyDirectory::UpdatePin(absl::string_view server,
                                      const PinRecord& pin) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->UpdatePin(server, pin);
}

absl::Status LazyDirectory::RemovePin(absl::string_view server,
                                      const Sha256Digest& cert_sha256) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->RemovePin(server, cert_sha256);
}

absl::Status LazyDirectory::RemoveServer(absl::string_view name) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->RemoveServer(name);
}

absl::StatusOr<std::vector<DomainPolicy>> LazyDirectory::ListDomainPolicies() {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->ListDomainPolicies();
}

absl::StatusOr<std::optional<DomainPolicy>> LazyDirectory::GetDomainPolicy(
    absl::string_view domain) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->GetDomainPolicy(domain);
}

absl::Status LazyDirectory::PutDomainPolicy(const DomainPolicy& policy) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->PutDomainPolicy(policy);
}

absl::Status LazyDirectory::RemoveDomainPolicy(absl::string_view domain) {
  DTRUST_ASSIGN_OR_RETURN(Directory* const directory, Get());
  return directory->RemoveDomainPolicy(domain);
}

}  // namespace dtrust
