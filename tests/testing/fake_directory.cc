#include "tests/testing/fake_directory.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace dtrust::testing {

void FakeDirectory::SetUnavailable(bool unavailable) {
  absl::MutexLock lock(&mutex_);
  unavailable_ = unavailable;
}

int FakeDirectory::writes() const {
  absl::MutexLock lock(&mutex_);
  return writes_;
}

absl::Status FakeDirectory::Check() const {
  if (unavailable_) return absl::UnavailableError("fake directory is down");
  return absl::OkStatus();
}

absl::Status FakeDirectory::CheckWrite() {
  ++writes_;
  return Check();
}

absl::StatusOr<std::vector<ServerRecord>> FakeDirectory::FindByDigest(
    const Sha256Digest* cert_sha256, const Sha256Digest* spki_sha256) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = Check(); !s.ok()) return s;
  std::vector<ServerRecord> found;
  for (const auto& [name, server] : servers_) {
    ServerRecord match{server.name, server.domains, {}};
    for (const PinRecord& pin : server.pins) {
      if ((cert_sha256 && pin.cert_sha256 == *cert_sha256) ||
          (spki_sha256 && pin.spki_sha256 == *spki_sha256)) {
        match.pins.push_back(pin);
        match.pins.back().der.clear();  // Readers may omit it; make sure
                                        // the core does not rely on it.
      }
    }
    if (!match.pins.empty()) found.push_back(std::move(match));
  }
  return found;
}

absl::StatusOr<std::optional<ServerRecord>> FakeDirectory::GetServer(
    absl::string_view name) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = Check(); !s.ok()) return s;
  const auto it = servers_.find(name);
  if (it == servers_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::vector<ServerRecord>> FakeDirectory::ListServers(
    const ServerFilter& filter) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = Check(); !s.ok()) return s;
  std::vector<ServerRecord> list;
  for (const auto& [name, server] : servers_) {
    if (!filter.server.empty() && name != filter.server) continue;
    if (!filter.domain.empty() &&
        std::find(server.domains.begin(), server.domains.end(),
                  filter.domain) == server.domains.end()) {
      continue;
    }
    list.push_back(server);
  }
  return list;
}

absl::Status FakeDirectory::CreateServer(
    absl::string_view name, const std::vector<std::string>& domains) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = CheckWrite(); !s.ok()) return s;
  if (servers_.count(name) > 0) {
    return absl::AlreadyExistsError(absl::StrCat(name, " exists"));
  }
  ServerRecord server{std::string(name), domains, {}};
  std::sort(server.domains.begin(), server.domains.end());
  servers_.emplace(std::string(name), std::move(server));
  return absl::OkStatus();
}

absl::Status FakeDirectory::AddDomains(
    absl::string_view name, const std::vector<std::string>& domains) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = CheckWrite(); !s.ok()) return s;
  const auto it = servers_.find(name);
  if (it == servers_.end()) return absl::NotFoundError(name);
  std::vector<std::string>& have = it->second.domains;
  for (const std::string& domain : domains) {
    if (std::find(have.begin(), have.end(), domain) == have.end()) {
      have.push_back(domain);
    }
  }
  std::sort(have.begin(), have.end());
  return absl::OkStatus();
}

absl::Status FakeDirectory::AddPin(absl::string_view name,
                                   const PinRecord& pin) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = CheckWrite(); !s.ok()) return s;
  const auto it = servers_.find(name);
  if (it == servers_.end()) return absl::NotFoundError(name);
  std::vector<PinRecord>& pins = it->second.pins;
  for (const PinRecord& have : pins) {
    if (have.cert_sha256 == pin.cert_sha256) {
      return absl::AlreadyExistsError(pin.cert_sha256.ToHex());
    }
  }
  pins.push_back(pin);
  std::sort(pins.begin(), pins.end(),
            [](const PinRecord& a, const PinRecord& b) {
              return a.cert_sha256 < b.cert_sha256;
            });
  return absl::OkStatus();
}

absl::Status FakeDirectory::UpdatePin(absl::string_view name,
                                      const PinRecord& pin) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = CheckWrite(); !s.ok()) return s;
  const auto it = servers_.find(name);
  if (it == servers_.end()) return absl::NotFoundError(name);
  for (PinRecord& stored : it->second.pins) {
    if (stored.cert_sha256 == pin.cert_sha256) {
      stored.kind = pin.kind;
      stored.window = pin.window;
      stored.provenance = pin.provenance;
      stored.publisher = pin.publisher;
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(pin.cert_sha256.ToHex());
}

absl::Status FakeDirectory::RemovePin(absl::string_view name,
                                      const Sha256Digest& cert_sha256) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = CheckWrite(); !s.ok()) return s;
  const auto it = servers_.find(name);
  if (it == servers_.end()) return absl::NotFoundError(name);
  std::vector<PinRecord>& pins = it->second.pins;
  const auto pin = std::find_if(
      pins.begin(), pins.end(),
      [&](const PinRecord& p) { return p.cert_sha256 == cert_sha256; });
  if (pin == pins.end()) return absl::NotFoundError(cert_sha256.ToHex());
  pins.erase(pin);
  return absl::OkStatus();
}

absl::Status FakeDirectory::RemoveServer(absl::string_view name) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = CheckWrite(); !s.ok()) return s;
  const auto it = servers_.find(name);
  if (it == servers_.end()) return absl::NotFoundError(name);
  if (!it->second.pins.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(name, " has pins"));
  }
  servers_.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DomainPolicy>> FakeDirectory::ListDomainPolicies() {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = Check(); !s.ok()) return s;
  std::vector<DomainPolicy> list;
  for (const auto& [domain, policy] : policies_) list.push_back(policy);
  return list;
}

absl::StatusOr<std::optional<DomainPolicy>> FakeDirectory::GetDomainPolicy(
    absl::string_view domain) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = Check(); !s.ok()) return s;
  const auto it = policies_.find(domain);
  if (it == policies_.end()) return std::nullopt;
  return it->second;
}

absl::Status FakeDirectory::PutDomainPolicy(const DomainPolicy& policy) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = CheckWrite(); !s.ok()) return s;
  if (policy.send == SecureMode::kOff && policy.receive == SecureMode::kOff) {
    return absl::InvalidArgumentError("both directions off");
  }
  policies_[policy.domain] = policy;
  return absl::OkStatus();
}

absl::Status FakeDirectory::RemoveDomainPolicy(absl::string_view domain) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = CheckWrite(); !s.ok()) return s;
  const auto it = policies_.find(domain);
  if (it == policies_.end()) return absl::NotFoundError(domain);
  policies_.erase(it);
  return absl::OkStatus();
}

}  // namespace dtrust::testing
