#include "server/mirror/mirror_tables.h"

#include <algorithm>
#include <utility>

namespace dtrust {
namespace {

int64_t ToSeconds(absl::Time time) { return absl::ToUnixSeconds(time); }

// Heap bytes of a server's name and domain list beyond their inline storage.
uint64_t HeapBytes(const std::string& name,
                   const absl::InlinedVector<uint32_t, 4>& domains) {
  uint64_t bytes = name.capacity() > 15 ? name.capacity() + 1 : 0;
  if (domains.size() > 4) bytes += domains.capacity() * sizeof(uint32_t);
  return bytes;
}

template <typename T>
uint64_t HashSetBytes(const T& set, size_t element_size) {
  // One control byte per slot besides the element (absl's Swiss tables).
  return set.capacity() * (element_size + 1);
}

}  // namespace

MirrorTables::MirrorTables()
    : by_cert_(0, CertKey{&pins_}, CertKey{&pins_}),
      by_spki_(0, SpkiKey{&pins_}, SpkiKey{&pins_}),
      by_uuid_(0, UuidKey{this}, UuidKey{this}),
      by_name_(0, NameKey{&servers_}, NameKey{&servers_}),
      publishers_(1) {}

bool MirrorTables::IsZero(const EntryUuid& uuid) {
  return std::all_of(uuid.begin(), uuid.end(),
                     [](uint8_t byte) { return byte == 0; });
}

const EntryUuid& MirrorTables::RefUuid(uint32_t ref) const {
  const uint32_t number = ref & ~kRefKindMask;
  switch (ref & kRefKindMask) {
    case kPinRef:
      return pins_[number].uuid;
    case kServerRef:
      return servers_[number].uuid;
    default:
      return policies_.at(number).uuid;
  }
}

void MirrorTables::SetUuid(uint32_t ref, EntryUuid* slot_uuid,
                           const EntryUuid& uuid) {
  if (*slot_uuid == uuid) return;
  if (!IsZero(*slot_uuid)) by_uuid_.erase(ref);
  if (!IsZero(uuid)) {
    // Another entry claiming this uuid is stale (its delete was missed).
    Remove(uuid);
  }
  *slot_uuid = uuid;
  if (!IsZero(uuid)) by_uuid_.insert(ref);
}

void MirrorTables::MarkRef(uint32_t ref) {
  if (reloading_) present_.insert(ref);
}

// --- Servers ---------------------------------------------------------------

uint32_t MirrorTables::FindServer(absl::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? kNone : *it;
}

uint32_t MirrorTables::FindOrAddServer(absl::string_view name) {
  uint32_t server = FindServer(name);
  if (server != kNone) return server;
  if (free_servers_.empty()) {
    server = static_cast<uint32_t>(servers_.size());
    servers_.emplace_back();
  } else {
    server = free_servers_.back();
    free_servers_.pop_back();
  }
  servers_[server].name = std::string(name);
  server_heap_bytes_ += HeapBytes(servers_[server].name, {});
  by_name_.insert(server);
  return server;
}

uint32_t MirrorTables::InternDomain(absl::string_view domain) {
  const auto [it, inserted] = domain_ids_.try_emplace(
      std::string(domain), static_cast<uint32_t>(domain_names_.size()));
  if (inserted) domain_names_.emplace_back(domain);
  return it->second;
}

uint32_t MirrorTables::FindDomain(absl::string_view domain) const {
  const auto it = domain_ids_.find(domain);
  return it == domain_ids_.end() ? kNone : it->second;
}

void MirrorTables::SetServerDomains(uint32_t server,
                                    const std::vector<std::string>& names) {
  absl::InlinedVector<uint32_t, 4> domains;
  for (const std::string& name : names) domains.push_back(InternDomain(name));
  std::sort(domains.begin(), domains.end(), [this](uint32_t a, uint32_t b) {
    return domain_names_[a] < domain_names_[b];
  });
  domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
  ServerSlot& slot = servers_[server];
  if (slot.domains == domains) return;
  for (uint32_t domain : slot.domains) {
    std::vector<uint32_t>& servers = servers_of_domain_[domain];
    servers.erase(std::remove(servers.begin(), servers.end(), server),
                  servers.end());
    if (servers.empty()) servers_of_domain_.erase(domain);
  }
  for (uint32_t domain : domains) servers_of_domain_[domain].push_back(server);
  server_heap_bytes_ -= HeapBytes(slot.name, slot.domains);
  slot.domains = std::move(domains);
  server_heap_bytes_ += HeapBytes(slot.name, slot.domains);
}

void MirrorTables::PutServer(const EntryUuid& uuid, absl::string_view name,
                             const std::vector<std::string>& domains) {
  uint32_t server = kNone;
  const auto it = by_uuid_.find(uuid);
  if (it != by_uuid_.end() && (*it & kRefKindMask) == kServerRef) {
    server = *it & ~kRefKindMask;
    if (servers_[server].name != name) {  // Renamed (modrdn).
      const uint32_t other = FindServer(name);
      if (other != kNone) RemoveServer(other);
      by_name_.erase(server);
      ServerSlot& slot = servers_[server];
      server_heap_bytes_ -= HeapBytes(slot.name, slot.domains);
      slot.name = std::string(name);
      server_heap_bytes_ += HeapBytes(slot.name, slot.domains);
      by_name_.insert(server);
    }
  } else {
    server = FindOrAddServer(name);
  }
  SetUuid(kServerRef | server, &servers_[server].uuid, uuid);
  SetServerDomains(server, domains);
  MarkRef(kServerRef | server);
}

void MirrorTables::AddServerDomains(absl::string_view name,
                                    const std::vector<std::string>& domains) {
  const uint32_t server = FindOrAddServer(name);
  std::vector<std::string> all = domains;
  for (uint32_t domain : servers_[server].domains) {
    all.push_back(domain_names_[domain]);
  }
  SetServerDomains(server, all);
}

void MirrorTables::RemoveServer(uint32_t server) {
  ServerSlot& slot = servers_[server];
  while (slot.first_pin != kNone) UnlinkPin(slot.first_pin);
  SetServerDomains(server, {});
  SetUuid(kServerRef | server, &slot.uuid, EntryUuid{});
  by_name_.erase(server);
  if (reloading_) present_.erase(kServerRef | server);
  server_heap_bytes_ -= HeapBytes(slot.name, slot.domains);
  slot = ServerSlot{};
  free_servers_.push_back(server);
}

void MirrorTables::RemoveServerByName(absl::string_view name) {
  const uint32_t server = FindServer(name);
  if (server != kNone) RemoveServer(server);
}

// --- Pins ------------------------------------------------------------------

uint32_t MirrorTables::InternPublisher(absl::string_view publisher) {
  if (publisher.empty()) return 0;
  auto [it, inserted] = publisher_ids_.try_emplace(std::string(publisher), 0);
  if (inserted) {
    it->second = static_cast<uint32_t>(publishers_.size());
    for (uint32_t i = 1; i < publishers_.size(); ++i) {
      if (publishers_[i].references == 0) {  // Reuse a released one.
        it->second = i;
        break;
      }
    }
    if (it->second == publishers_.size()) publishers_.emplace_back();
    publishers_[it->second].name = std::string(publisher);
  }
  ++publishers_[it->second].references;
  return it->second;
}

void MirrorTables::ReleasePublisher(uint32_t id) {
  if (id == 0 || --publishers_[id].references > 0) return;
  publisher_ids_.erase(publishers_[id].name);
  publishers_[id].name.clear();
  publishers_[id].name.shrink_to_fit();
}

uint32_t MirrorTables::FindPin(uint32_t server,
                               const Sha256Digest& cert) const {
  if (server == kNone) return kNone;
  const auto it = by_cert_.find(cert);
  if (it == by_cert_.end()) return kNone;
  for (uint32_t pin = *it; pin != kNone; pin = pins_[pin].next_same_cert) {
    if (pins_[pin].server == server) return pin;
  }
  return kNone;
}

void MirrorTables::StorePin(uint32_t slot_number, uint32_t server,
                            const PinRecord& pin) {
  PinSlot& slot = pins_[slot_number];
  slot.server = server;
  slot.kind = pin.kind;
  slot.provenance = pin.provenance;
  slot.not_before = ToSeconds(pin.not_before);
  slot.not_after = ToSeconds(pin.not_after);
  const uint32_t publisher = InternPublisher(pin.publisher);
  ReleasePublisher(slot.publisher);
  slot.publisher = publisher;
  slot.has_window = pin.window.not_before || pin.window.not_after;
  if (slot.has_window) {
    windows_[slot_number] = pin.window;
  } else {
    windows_.erase(slot_number);
  }
}

uint32_t MirrorTables::AddPin(uint32_t server, const PinRecord& pin) {
  uint32_t number = free_pins_;
  if (number == kNone) {
    number = static_cast<uint32_t>(pins_.size());
    pins_.emplace_back();
  } else {
    free_pins_ = pins_[number].next_of_server;
  }
  PinSlot& slot = pins_[number];
  slot = PinSlot{};
  slot.cert = pin.cert_sha256;
  slot.spki = pin.spki_sha256;
  StorePin(number, server, pin);
  slot.next_of_server = servers_[server].first_pin;
  servers_[server].first_pin = number;
  if (const auto head = by_cert_.find(slot.cert); head != by_cert_.end()) {
    slot.next_same_cert = pins_[*head].next_same_cert;
    pins_[*head].next_same_cert = number;
  } else {
    by_cert_.insert(number);
  }
  if (const auto head = by_spki_.find(slot.spki); head != by_spki_.end()) {
    slot.next_same_spki = pins_[*head].next_same_spki;
    pins_[*head].next_same_spki = number;
  } else {
    by_spki_.insert(number);
  }
  ++pin_count_;
  return number;
}

namespace {

// Unlinks `number` from the chain starting at the set's element for its
// key, replacing the set's element when it was the head.
template <typename Set, typename Next>
void UnlinkFromChain(Set& set, uint32_t number, Next next) {
  const auto head = set.find(number);
  if (head == set.end()) return;
  if (*head == number) {
    const uint32_t successor = next(number);
    set.erase(head);
    if (successor != UINT32_MAX) set.insert(successor);
    return;
  }
  for (uint32_t pin = *head; pin != UINT32_MAX; pin = next(pin)) {
    if (next(pin) == number) {
      next(pin) = next(number);
      return;
    }
  }
}

}  // namespace

void MirrorTables::UnlinkPin(uint32_t number) {
  PinSlot& slot = pins_[number];
  SetUuid(kPinRef | number, &slot.uuid, EntryUuid{});
  if (reloading_) present_.erase(kPinRef | number);
  UnlinkFromChain(by_cert_, number, [this](uint32_t pin) -> uint32_t& {
    return pins_[pin].next_same_cert;
  });
  UnlinkFromChain(by_spki_, number, [this](uint32_t pin) -> uint32_t& {
    return pins_[pin].next_same_spki;
  });
  uint32_t* link = &servers_[slot.server].first_pin;
  while (*link != number) link = &pins_[*link].next_of_server;
  *link = slot.next_of_server;
  if (slot.has_window) windows_.erase(number);
  ReleasePublisher(slot.publisher);
  slot = PinSlot{};
  slot.next_of_server = free_pins_;
  free_pins_ = number;
  --pin_count_;
}

void MirrorTables::PutPin(const EntryUuid& uuid, absl::string_view server_name,
                          const PinRecord& pin) {
  uint32_t number = kNone;
  const auto it = by_uuid_.find(uuid);
  if (it != by_uuid_.end() && (*it & kRefKindMask) == kPinRef) {
    number = *it & ~kRefKindMask;
    const PinSlot& slot = pins_[number];
    if (slot.cert != pin.cert_sha256 || slot.spki != pin.spki_sha256 ||
        servers_[slot.server].name != server_name) {
      UnlinkPin(number);  // Moved or rewritten: store it afresh.
      number = kNone;
    }
  }
  const uint32_t server = FindOrAddServer(server_name);
  if (number == kNone) number = FindPin(server, pin.cert_sha256);
  if (number == kNone) {
    number = AddPin(server, pin);
  } else {
    StorePin(number, server, pin);
  }
  SetUuid(kPinRef | number, &pins_[number].uuid, uuid);
  MarkRef(kPinRef | number);
}

void MirrorTables::PutPinByName(absl::string_view server_name,
                                const PinRecord& pin) {
  const uint32_t server = FindOrAddServer(server_name);
  const uint32_t number = FindPin(server, pin.cert_sha256);
  if (number == kNone) {
    AddPin(server, pin);
  } else {
    StorePin(number, server, pin);
  }
}

void MirrorTables::RemovePinByName(absl::string_view server_name,
                                   const Sha256Digest& cert_sha256) {
  const uint32_t number = FindPin(FindServer(server_name), cert_sha256);
  if (number != kNone) UnlinkPin(number);
}

// --- Domain policies -------------------------------------------------------

void MirrorTables::PutDomainPolicy(const EntryUuid& uuid,
                                   const DomainPolicy& policy) {
  const uint32_t domain = InternDomain(policy.domain);
  const auto it = by_uuid_.find(uuid);
  if (it != by_uuid_.end() && (*it & kRefKindMask) == kPolicyRef &&
      (*it & ~kRefKindMask) != domain) {
    RemovePolicy(*it & ~kRefKindMask);  // Renamed.
  }
  PolicySlot& slot = policies_[domain];
  slot.send = policy.send;
  slot.receive = policy.receive;
  SetUuid(kPolicyRef | domain, &policies_[domain].uuid, uuid);
  MarkRef(kPolicyRef | domain);
}

void MirrorTables::PutDomainPolicyByName(const DomainPolicy& policy) {
  const uint32_t domain = InternDomain(policy.domain);
  PolicySlot& slot = policies_[domain];
  slot.send = policy.send;
  slot.receive = policy.receive;
}

void MirrorTables::RemovePolicy(uint32_t domain) {
  const auto it = policies_.find(domain);
  if (it == policies_.end()) return;
  SetUuid(kPolicyRef | domain, &it->second.uuid, EntryUuid{});
  if (reloading_) present_.erase(kPolicyRef | domain);
  policies_.erase(domain);
}

void MirrorTables::RemoveDomainPolicyByName(absl::string_view domain) {
  const uint32_t id = FindDomain(domain);
  if (id != kNone) RemovePolicy(id);
}

// --- Any entry -------------------------------------------------------------

void MirrorTables::Remove(const EntryUuid& uuid) {
  const auto it = by_uuid_.find(uuid);
  if (it == by_uuid_.end()) return;
  const uint32_t ref = *it;
  const uint32_t number = ref & ~kRefKindMask;
  switch (ref & kRefKindMask) {
    case kPinRef:
      UnlinkPin(number);
      break;
    case kServerRef:
      RemoveServer(number);
      break;
    default:
      RemovePolicy(number);
      break;
  }
}

void MirrorTables::BeginReload() {
  reloading_ = true;
  present_.clear();
}

void MirrorTables::MarkPresent(const EntryUuid& uuid) {
  const auto it = by_uuid_.find(uuid);
  if (it != by_uuid_.end()) MarkRef(*it);
}

void MirrorTables::AbortReload() {
  reloading_ = false;
  present_ = {};
}

size_t MirrorTables::EndReload() {
  std::vector<uint32_t> gone;
  for (uint32_t ref : by_uuid_) {
    if (!present_.contains(ref)) gone.push_back(ref);
  }
  reloading_ = false;
  present_ = {};
  // Pins first: removing a server removes its pins and frees their slots.
  std::sort(gone.begin(), gone.end());
  size_t removed = 0;
  for (uint32_t ref : gone) {
    const uint32_t number = ref & ~kRefKindMask;
    switch (ref & kRefKindMask) {
      case kPinRef:
        if (pins_[number].server == kNone) continue;
        UnlinkPin(number);
        break;
      case kServerRef:
        RemoveServer(number);
        break;
      default:
        RemovePolicy(number);
        break;
    }
    ++removed;
  }
  return removed;
}

// --- Reads -----------------------------------------------------------------

PinRecord MirrorTables::PinOf(uint32_t number) const {
  const PinSlot& slot = pins_[number];
  PinRecord pin;
  pin.cert_sha256 = slot.cert;
  pin.spki_sha256 = slot.spki;
  pin.kind = slot.kind;
  pin.provenance = slot.provenance;
  pin.not_before = absl::FromUnixSeconds(slot.not_before);
  pin.not_after = absl::FromUnixSeconds(slot.not_after);
  if (slot.has_window) pin.window = windows_.at(number);
  pin.publisher = publishers_[slot.publisher].name;
  return pin;
}

ServerRecord MirrorTables::Record(uint32_t server, bool with_pins) const {
  const ServerSlot& slot = servers_[server];
  ServerRecord record;
  record.name = slot.name;
  for (uint32_t domain : slot.domains) {
    record.domains.push_back(domain_names_[domain]);
  }
  if (with_pins) {
    for (uint32_t pin = slot.first_pin; pin != kNone;
         pin = pins_[pin].next_of_server) {
      record.pins.push_back(PinOf(pin));
    }
    std::sort(record.pins.begin(), record.pins.end(),
              [](const PinRecord& a, const PinRecord& b) {
                return a.cert_sha256 < b.cert_sha256;
              });
  }
  return record;
}

std::vector<ServerRecord> MirrorTables::FindByDigest(
    const Sha256Digest* cert_sha256, const Sha256Digest* spki_sha256) const {
  std::vector<uint32_t> matches;
  if (cert_sha256 != nullptr) {
    if (const auto it = by_cert_.find(*cert_sha256); it != by_cert_.end()) {
      for (uint32_t pin = *it; pin != kNone; pin = pins_[pin].next_same_cert) {
        matches.push_back(pin);
      }
    }
  }
  if (spki_sha256 != nullptr) {
    if (const auto it = by_spki_.find(*spki_sha256); it != by_spki_.end()) {
      for (uint32_t pin = *it; pin != kNone; pin = pins_[pin].next_same_spki) {
        if (std::find(matches.begin(), matches.end(), pin) == matches.end()) {
          matches.push_back(pin);
        }
      }
    }
  }
  std::vector<ServerRecord> servers;
  std::vector<uint32_t> server_numbers;
  for (uint32_t pin : matches) {
    const uint32_t server = pins_[pin].server;
    const auto at =
        std::find(server_numbers.begin(), server_numbers.end(), server);
    size_t index = at - server_numbers.begin();
    if (at == server_numbers.end()) {
      server_numbers.push_back(server);
      servers.push_back(Record(server, /*with_pins=*/false));
    }
    servers[index].pins.push_back(PinOf(pin));
  }
  return servers;
}

std::vector<ServerRecord> MirrorTables::FindServers(
    const ServerFilter& filter) const {
  std::vector<uint32_t> numbers;
  if (!filter.server.empty()) {
    const uint32_t server = FindServer(filter.server);
    if (server != kNone) numbers.push_back(server);
  } else if (!filter.domain.empty()) {
    const uint32_t domain = FindDomain(filter.domain);
    if (const auto it = servers_of_domain_.find(domain);
        domain != kNone && it != servers_of_domain_.end()) {
      numbers = it->second;
    }
  } else {
    numbers.assign(by_name_.begin(), by_name_.end());
  }
  std::vector<ServerRecord> servers;
  for (uint32_t server : numbers) {
    ServerRecord record = Record(server, /*with_pins=*/true);
    if (!filter.domain.empty() &&
        !std::binary_search(record.domains.begin(), record.domains.end(),
                            filter.domain)) {
      continue;
    }
    servers.push_back(std::move(record));
  }
  std::sort(servers.begin(), servers.end(),
            [](const ServerRecord& a, const ServerRecord& b) {
              return a.name < b.name;
            });
  return servers;
}

std::optional<DomainPolicy> MirrorTables::GetDomainPolicy(
    absl::string_view domain) const {
  const uint32_t id = FindDomain(domain);
  const auto it = policies_.find(id);
  if (id == kNone || it == policies_.end()) return std::nullopt;
  if (it->second.send == SecureMode::kOff &&
      it->second.receive == SecureMode::kOff) {
    return std::nullopt;
  }
  return DomainPolicy{.domain = domain_names_[id],
                      .send = it->second.send,
                      .receive = it->second.receive};
}

std::vector<DomainPolicy> MirrorTables::ListDomainPolicies() const {
  std::vector<DomainPolicy> policies;
  for (const auto& [domain, slot] : policies_) {
    if (slot.send == SecureMode::kOff && slot.receive == SecureMode::kOff) {
      continue;
    }
    policies.push_back(DomainPolicy{.domain = domain_names_[domain],
                                    .send = slot.send,
                                    .receive = slot.receive});
  }
  std::sort(policies.begin(), policies.end(),
            [](const DomainPolicy& a, const DomainPolicy& b) {
              return a.domain < b.domain;
            });
  return policies;
}

MirrorCounts MirrorTables::Counts() const {
  MirrorCounts counts;
  counts.servers = servers_.size() - free_servers_.size();
  counts.pins = pin_count_;
  for (const auto& [domain, slot] : policies_) {
    if (slot.send != SecureMode::kOff || slot.receive != SecureMode::kOff) {
      ++counts.domain_policies;
    }
  }
  uint64_t bytes = pins_.capacity() * sizeof(PinSlot) +
                   servers_.capacity() * sizeof(ServerSlot) +
                   free_servers_.capacity() * sizeof(uint32_t);
  bytes += server_heap_bytes_;
  bytes +=
      HashSetBytes(by_cert_, sizeof(uint32_t)) +
      HashSetBytes(by_spki_, sizeof(uint32_t)) +
      HashSetBytes(by_uuid_, sizeof(uint32_t)) +
      HashSetBytes(by_name_, sizeof(uint32_t)) +
      HashSetBytes(windows_, sizeof(std::pair<uint32_t, PinWindow>)) +
      HashSetBytes(policies_, sizeof(std::pair<uint32_t, PolicySlot>)) +
      HashSetBytes(servers_of_domain_,
                   sizeof(std::pair<uint32_t, std::vector<uint32_t>>)) +
      HashSetBytes(domain_ids_, sizeof(std::pair<std::string, uint32_t>)) +
      HashSetBytes(publisher_ids_, sizeof(std::pair<std::string, uint32_t>));
  for (const auto& [domain, servers] : servers_of_domain_) {
    bytes += servers.capacity() * sizeof(uint32_t);
  }
  bytes += domain_names_.capacity() * sizeof(std::string) +
           publishers_.capacity() * sizeof(Publisher);
  counts.bytes = bytes;
  return counts;
}

}  // namespace dtrust
