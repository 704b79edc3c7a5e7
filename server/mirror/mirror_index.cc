#include "server/mirror/mirror_index.h"

#include "server/mirror/mirror_tables.h"

namespace dtrust {

MirrorIndex::MirrorIndex() : tables_(std::make_unique<MirrorTables>()) {}
MirrorIndex::~MirrorIndex() = default;

void MirrorIndex::PutServer(const EntryUuid& uuid, absl::string_view name,
                            const std::vector<std::string>& domains) {
  absl::MutexLock lock(&mutex_);
  tables_->PutServer(uuid, name, domains);
}

void MirrorIndex::PutPin(const EntryUuid& uuid, absl::string_view server,
                         const PinRecord& pin) {
  absl::MutexLock lock(&mutex_);
  tables_->PutPin(uuid, server, pin);
}

void MirrorIndex::PutDomainPolicy(const EntryUuid& uuid,
                                  const DomainPolicy& policy) {
  absl::MutexLock lock(&mutex_);
  tables_->PutDomainPolicy(uuid, policy);
}

void MirrorIndex::Remove(const EntryUuid& uuid) {
  absl::MutexLock lock(&mutex_);
  tables_->Remove(uuid);
}

void MirrorIndex::BeginReload() {
  absl::MutexLock lock(&mutex_);
  tables_->BeginReload();
}

void MirrorIndex::MarkPresent(const EntryUuid& uuid) {
  absl::MutexLock lock(&mutex_);
  tables_->MarkPresent(uuid);
}

size_t MirrorIndex::EndReload() {
  absl::MutexLock lock(&mutex_);
  return tables_->EndReload();
}

void MirrorIndex::BeginSourceRead() {
  absl::MutexLock lock(&mutex_);
  tables_->BeginSourceRead();
}

void MirrorIndex::EndSourceRead() {
  absl::MutexLock lock(&mutex_);
  tables_->EndSourceRead();
}

void MirrorIndex::AddServerDomains(absl::string_view name,
                                   const std::vector<std::string>& domains) {
  absl::MutexLock lock(&mutex_);
  tables_->AddServerDomains(name, domains);
}

void MirrorIndex::PutPinByName(absl::string_view server, const PinRecord& pin) {
  absl::MutexLock lock(&mutex_);
  tables_->PutPinByName(server, pin);
}

void MirrorIndex::RemovePinByName(absl::string_view server,
                                  const Sha256Digest& cert_sha256) {
  absl::MutexLock lock(&mutex_);
  tables_->RemovePinByName(server, cert_sha256);
}

void MirrorIndex::RemoveServerByName(absl::string_view name) {
  absl::MutexLock lock(&mutex_);
  tables_->RemoveServerByName(name);
}

void MirrorIndex::PutDomainPolicyByName(const DomainPolicy& policy) {
  absl::MutexLock lock(&mutex_);
  tables_->PutDomainPolicyByName(policy);
}

void MirrorIndex::RemoveDomainPolicyByName(absl::string_view domain) {
  absl::MutexLock lock(&mutex_);
  tables_->RemoveDomainPolicyByName(domain);
}

void MirrorIndex::AbortReload() {
  absl::MutexLock lock(&mutex_);
  tables_->AbortReload();
}

std::vector<ServerRecord> MirrorIndex::FindByDigest(
    const Sha256Digest* cert_sha256, const Sha256Digest* spki_sha256) const {
  absl::ReaderMutexLock lock(&mutex_);
  return tables_->FindByDigest(cert_sha256, spki_sha256);
}

std::vector<ServerRecord> MirrorIndex::FindServers(
    const ServerFilter& filter) const {
  absl::ReaderMutexLock lock(&mutex_);
  return tables_->FindServers(filter);
}

std::optional<DomainPolicy> MirrorIndex::GetDomainPolicy(
    absl::string_view domain) const {
  absl::ReaderMutexLock lock(&mutex_);
  return tables_->GetDomainPolicy(domain);
}

std::vector<DomainPolicy> MirrorIndex::ListDomainPolicies() const {
  absl::ReaderMutexLock lock(&mutex_);
  return tables_->ListDomainPolicies();
}

MirrorCounts MirrorIndex::Counts() const {
  absl::ReaderMutexLock lock(&mutex_);
  return tables_->Counts();
}

}  // namespace dtrust
