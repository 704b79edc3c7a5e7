#include "server/mirror/mirror_tables.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "server/core/log.h"

namespace dtrust {
namespace {

// Unix seconds clamped to what a PinSlot holds (see there).
uint32_t ToSlotSeconds(absl::Time time) {
  return static_cast<uint32_t>(std::clamp<int64_t>(
      absl::ToUnixSeconds(time), 0, std::numeric_limits<uint32_t>::max()));
}

template <typename T>
uint64_t HashMapBytes(const T& map) {
  // One control byte per slot besides the element (absl's Swiss tables).
  return map.capacity() * (sizeof(typename T::value_type) + 1);
}

}  // namespace

uint64_t MirrorTables::DigestHash(const Sha256Digest& digest) {
  uint64_t word;
  std::memcpy(&word, digest.bytes().data(), sizeof(word));
  return absl::HashOf(word);
}

uint64_t MirrorTables::UuidHash(const EntryUuid& uuid) {
  return absl::HashOf(absl::string_view(
      reinterpret_cast<const char*>(uuid.data()), uuid.size()));
}

uint64_t MirrorTables::NameHash(absl::string_view name) {
  return absl::HashOf(name);
}

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
    case kPolicyRef:
      return policies_.at(number).uuid;
    default:
      return contributors_[number].uuid;
  }
}

uint32_t MirrorTables::FindRef(const EntryUuid& uuid) const {
  return by_uuid_.Find(UuidHash(uuid),
                       [&](uint32_t ref) { return RefUuid(ref) == uuid; });
}

void MirrorTables::SetUuid(uint32_t ref, EntryUuid* slot_uuid,
                           const EntryUuid& uuid) {
  if (*slot_uuid == uuid) return;
  if (!IsZero(*slot_uuid)) by_uuid_.Erase(ref);
  if (!IsZero(uuid)) {
    // Another entry claiming this uuid is stale (its delete was missed).
    const uint32_t other = FindRef(uuid);
    if (other != kNone) RemoveRef(other);
  }
  *slot_uuid = uuid;
  if (!IsZero(uuid)) by_uuid_.Insert(ref);
}

void MirrorTables::MarkRef(uint32_t ref) {
  if (reloading_) SetPresent(ref, true);
}

bool MirrorTables::Present(uint32_t ref) const {
  const uint32_t number = ref & ~kRefKindMask;
  switch (ref & kRefKindMask) {
    case kPinRef:
      return pins_[number].present;
    case kServerRef:
      return servers_[number].present;
    case kPolicyRef:
      return policies_.at(number).present;
    default:
      return contributors_[number].present;
  }
}

void MirrorTables::SetPresent(uint32_t ref, bool present) {
  const uint32_t number = ref & ~kRefKindMask;
  switch (ref & kRefKindMask) {
    case kPinRef:
      pins_[number].present = present;
      break;
    case kServerRef:
      servers_[number].present = present;
      break;
    case kPolicyRef:
      policies_.at(number).present = present;
      break;
    default:
      contributors_[number].present = present;
      break;
  }
}

// --- Servers ---------------------------------------------------------------

uint32_t MirrorTables::FindServer(absl::string_view name) const {
  return by_name_.Find(NameHash(name),
                       [&](uint32_t server) { return NameOf(server) == name; });
}

uint32_t MirrorTables::FindOrAddServer(absl::string_view name) {
  uint32_t server = FindServer(name);
  if (server != kNone) return server;
  if (free_servers_ == kNone) {
    if (servers_.size() >= kMaxSlots) {
      LogError("mirror: more than ", kMaxSlots, " servers; stopping");
      std::abort();
    }
    server = servers_.Append();
  } else {
    server = free_servers_;
    free_servers_ = servers_[server].first_pin;
    servers_[server].first_pin = kNone;
  }
  servers_[server].name = names_.Add(name);
  by_name_.Insert(server);
  ++server_count_;
  Touch(ChangeSubject::kServer, name);
  return server;
}

void MirrorTables::RenameServer(uint32_t server, absl::string_view name) {
  Touch(ChangeSubject::kServer, NameOf(server));
  Touch(ChangeSubject::kServer, name);
  by_name_.Erase(server);
  names_.Release(servers_[server].name);
  servers_[server].name = names_.Add(name);
  by_name_.Insert(server);
}

uint32_t MirrorTables::InternDomain(absl::string_view domain) {
  uint32_t id = FindDomain(domain);
  if (id != kNone) return id;
  if (domains_.size() >= kMaxSlots) {
    LogError("mirror: more than ", kMaxSlots, " domains; stopping");
    std::abort();
  }
  id = static_cast<uint32_t>(domains_.size());
  domains_.emplace_back().name = domain_names_.Add(domain);
  by_domain_.Insert(id);
  return id;
}

uint32_t MirrorTables::FindDomain(absl::string_view domain) const {
  return by_domain_.Find(NameHash(domain),
                         [&](uint32_t id) { return DomainName(id) == domain; });
}

absl::InlinedVector<uint32_t, 4> MirrorTables::DomainsOf(
    uint32_t server) const {
  absl::InlinedVector<uint32_t, 4> domains;
  const ServerSlot& slot = servers_[server];
  if (slot.domain == kNone) return domains;
  domains.push_back(slot.domain);
  if (slot.more_domains) {
    const std::vector<uint32_t>& more = extra_domains_.at(server);
    domains.insert(domains.end(), more.begin(), more.end());
  }
  return domains;
}

absl::InlinedVector<uint32_t, 2> MirrorTables::InternDomains(
    const std::vector<std::string>& names) {
  absl::InlinedVector<uint32_t, 2> domains;
  for (const std::string& name : names) domains.push_back(InternDomain(name));
  return domains;
}

void MirrorTables::SetServerDomains(uint32_t server,
                                    const std::vector<std::string>& names) {
  const absl::InlinedVector<uint32_t, 2> interned = InternDomains(names);
  SetServerDomainIds(server, absl::InlinedVector<uint32_t, 4>(interned.begin(),
                                                              interned.end()));
}

void MirrorTables::SetServerDomainIds(
    uint32_t server, absl::InlinedVector<uint32_t, 4> domains) {
  std::sort(domains.begin(), domains.end(), [this](uint32_t a, uint32_t b) {
    return DomainName(a) < DomainName(b);
  });
  domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
  const absl::InlinedVector<uint32_t, 4> old = DomainsOf(server);
  if (old == domains) return;
  Touch(ChangeSubject::kServer, NameOf(server));
  for (uint32_t domain : old) {
    auto& servers = domains_[domain].servers;
    servers.erase(std::remove(servers.begin(), servers.end(), server),
                  servers.end());
    if (servers.empty()) servers.shrink_to_fit();
  }
  for (uint32_t domain : domains) domains_[domain].servers.push_back(server);
  ServerSlot& slot = servers_[server];
  slot.domain = domains.empty() ? kNone : domains[0];
  slot.more_domains = domains.size() > 1;
  if (slot.more_domains) {
    extra_domains_[server].assign(domains.begin() + 1, domains.end());
  } else {
    extra_domains_.erase(server);
  }
}

void MirrorTables::PutServer(const EntryUuid& uuid, absl::string_view name,
                             const std::vector<std::string>& domains) {
  uint32_t server = kNone;
  const uint32_t ref = FindRef(uuid);
  const uint32_t target = ref == kNone ? kNone : TargetOf(ref);
  if (HasLocalWrites()) {
    const uint32_t named = FindServer(name);
    const uint32_t named_ref = named == kNone ? kNone : kServerRef | named;
    // A rename removes the server already called `name`.
    const bool renamed =
        ref != kNone && (ref & kRefKindMask) == kServerRef && ref != named_ref;
    if (ServerLeftAlone(name, /*removal=*/renamed) ||
        (ref != kNone && target != named_ref && RefLeftAlone(ref))) {
      LeaveAlone(absl::StrCat("server ", name), named_ref, uuid);
      return;
    }
  }
  if (target != kNone && (target & kRefKindMask) == kServerRef &&
      NameOf(target & ~kRefKindMask) != name) {  // Renamed (modrdn).
    const uint32_t other = FindServer(name);
    if (ref != target) {
      Withdraw(ref & ~kRefKindMask);  // Its pins stay with the others'.
    } else if (other == kNone) {
      server = ref & ~kRefKindMask;
      RenameServer(server, name);
    } else {  // Onto another entry's name: its pins join that server.
      MovePins(ref & ~kRefKindMask, other);
      RemoveServer(ref & ~kRefKindMask);
    }
  } else if (target != kNone && (target & kRefKindMask) == kServerRef) {
    server = target & ~kRefKindMask;
  }
  if (server == kNone) server = FindOrAddServer(name);
  if (MergesInto(kServerRef | server, uuid)) {
    Contributor content;
    content.domains = InternDomains(domains);
    Contribute(kServerRef | server, uuid, std::move(content));
    return;
  }
  SetUuid(kServerRef | server, &servers_[server].uuid, uuid);
  SetServerDomains(server, domains);
  MarkRef(kServerRef | server);
}

void MirrorTables::AddServerDomains(absl::string_view name,
                                    const std::vector<std::string>& domains) {
  if (LocalWrites::Server* written = RecordServerWrite(name)) {
    written->entry = true;
  }
  const uint32_t server = FindOrAddServer(name);
  std::vector<std::string> all = domains;
  for (uint32_t domain : DomainsOf(server)) {
    all.emplace_back(DomainName(domain));
  }
  SetServerDomains(server, all);
}

void MirrorTables::RemoveServer(uint32_t server) {
  // One change for the server, its pins and domains.
  Touch(ChangeSubject::kServer, NameOf(server));
  ServerSlot& slot = servers_[server];
  ChangeLog* const change_log = std::exchange(change_log_, nullptr);
  if (slot.merged) DissolveGroup(kServerRef | server);
  while (slot.first_pin != kNone) UnlinkPin(slot.first_pin);
  SetServerDomains(server, {});
  change_log_ = change_log;
  SetUuid(kServerRef | server, &slot.uuid, EntryUuid{});
  by_name_.Erase(server);
  names_.Release(slot.name);
  slot = ServerSlot{};
  slot.first_pin = free_servers_;
  free_servers_ = server;
  --server_count_;
  if (names_.WantsCompaction()) {
    names_.Compact([this](auto relocate) {
      for (uint32_t i = 0; i < servers_.size(); ++i) {
        if (servers_[i].name != kNone) relocate(servers_[i].name);
      }
    });
  }
}

void MirrorTables::RemoveServerByName(absl::string_view name) {
  if (LocalWrites::Server* written = RecordServerWrite(name)) {
    written->entry = true;
    written->removed = true;
  }
  const uint32_t server = FindServer(name);
  if (server != kNone) RemoveServer(server);
}

// --- Pins ------------------------------------------------------------------

uint32_t MirrorTables::InternPublisher(absl::string_view publisher) {
  if (publisher.empty()) return 0;
  auto [it, inserted] = publisher_ids_.try_emplace(std::string(publisher), 0);
  if (inserted) {
    if (publishers_.size() >= (1u << 24)) {
      LogError("mirror: more than 2^24 publishers; stopping");
      std::abort();
    }
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
  return by_cert_.Find(DigestHash(cert), [&](uint32_t pin) {
    return pins_[pin].server == server && pins_[pin].cert == cert;
  });
}

void MirrorTables::StorePin(uint32_t slot_number, uint32_t server,
                            const PinRecord& pin) {
  PinSlot& slot = pins_[slot_number];
  if (change_log_ != nullptr &&
      (slot.server != server || !StoredAs(slot_number, pin))) {
    Touch(ChangeSubject::kServer, NameOf(server));
  }
  slot.server = server;
  slot.public_key_pin = pin.kind == PinKind::kPublicKey;
  slot.possession_proven = pin.provenance == PinProvenance::kPossessionProven;
  slot.not_before = ToSlotSeconds(pin.not_before);
  slot.not_after = ToSlotSeconds(pin.not_after);
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

bool MirrorTables::StoredAs(uint32_t slot_number, const PinRecord& pin) const {
  const PinSlot& slot = pins_[slot_number];
  const bool same_window =
      slot.has_window ? windows_.at(slot_number) == pin.window
                      : !pin.window.not_before && !pin.window.not_after;
  return same_window &&
         slot.public_key_pin == (pin.kind == PinKind::kPublicKey) &&
         slot.possession_proven ==
             (pin.provenance == PinProvenance::kPossessionProven) &&
         slot.not_before == ToSlotSeconds(pin.not_before) &&
         slot.not_after == ToSlotSeconds(pin.not_after) &&
         publishers_[slot.publisher].name == pin.publisher;
}

uint32_t MirrorTables::AddPin(uint32_t server, const PinRecord& pin) {
  uint32_t number = free_pins_;
  if (number == kNone) {
    if (pins_.size() >= kMaxSlots) {
      LogError("mirror: more than ", kMaxSlots, " pins; stopping");
      std::abort();
    }
    number = pins_.Append();
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
  by_cert_.Insert(number);
  by_spki_.Insert(number);
  ++pin_count_;
  return number;
}

void MirrorTables::UnlinkPin(uint32_t number) {
  PinSlot& slot = pins_[number];
  Touch(ChangeSubject::kServer, NameOf(slot.server));
  if (slot.merged) DissolveGroup(kPinRef | number);
  SetUuid(kPinRef | number, &slot.uuid, EntryUuid{});
  by_cert_.Erase(number);
  by_spki_.Erase(number);
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
  const uint32_t ref = FindRef(uuid);
  const uint32_t target = ref == kNone ? kNone : TargetOf(ref);
  if (HasLocalWrites()) {
    const uint32_t named = FindPin(FindServer(server_name), pin.cert_sha256);
    const uint32_t named_ref = named == kNone ? kNone : kPinRef | named;
    if (PinLeftAlone(server_name, pin.cert_sha256) ||
        (ref != kNone && target != named_ref && RefLeftAlone(ref))) {
      LeaveAlone(absl::StrCat("pin ", pin.cert_sha256.ToHex(), " of server ",
                              server_name),
                 named_ref, uuid);
      return;
    }
  }
  if (target != kNone && (target & kRefKindMask) == kPinRef) {
    number = target & ~kRefKindMask;
    const PinSlot& slot = pins_[number];
    if (slot.cert != pin.cert_sha256 || slot.spki != pin.spki_sha256 ||
        NameOf(slot.server) != server_name) {
      // Moved or rewritten: store it afresh.
      if (ref != target) {
        Withdraw(ref & ~kRefKindMask);
      } else {
        UnlinkPin(number);
      }
      number = kNone;
    }
  }
  const uint32_t server = FindOrAddServer(server_name);
  if (number == kNone) number = FindPin(server, pin.cert_sha256);
  if (number == kNone) {
    number = AddPin(server, pin);
  } else if (MergesInto(kPinRef | number, uuid)) {
    Contributor content;
    content.pin = pin;
    Contribute(kPinRef | number, uuid, std::move(content));
    return;
  } else {
    StorePin(number, server, pin);
  }
  SetUuid(kPinRef | number, &pins_[number].uuid, uuid);
  MarkRef(kPinRef | number);
}

void MirrorTables::PutPinByName(absl::string_view server_name,
                                const PinRecord& pin) {
  if (LocalWrites::Server* written = RecordServerWrite(server_name)) {
    written->pins.insert(pin.cert_sha256);
  }
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
  if (LocalWrites::Server* written = RecordServerWrite(server_name)) {
    written->pins.insert(cert_sha256);
  }
  const uint32_t number = FindPin(FindServer(server_name), cert_sha256);
  if (number != kNone) UnlinkPin(number);
}

// --- Domain policies -------------------------------------------------------

void MirrorTables::PutDomainPolicy(const EntryUuid& uuid,
                                   const DomainPolicy& policy) {
  const uint32_t ref = FindRef(uuid);
  const uint32_t target = ref == kNone ? kNone : TargetOf(ref);
  if (HasLocalWrites()) {
    const uint32_t named = FindDomain(policy.domain);
    const uint32_t named_ref = named != kNone && policies_.contains(named)
                                   ? kPolicyRef | named
                                   : kNone;
    if (PolicyLeftAlone(policy.domain) ||
        (ref != kNone && target != named_ref && RefLeftAlone(ref))) {
      LeaveAlone(absl::StrCat("the domain policy of ", policy.domain),
                 named_ref, uuid);
      return;
    }
  }
  const uint32_t domain = InternDomain(policy.domain);
  if (target != kNone && (target & kRefKindMask) == kPolicyRef &&
      (target & ~kRefKindMask) != domain) {  // Renamed.
    if (ref != target) {
      Withdraw(ref & ~kRefKindMask);
    } else {
      RemovePolicy(ref & ~kRefKindMask);
    }
  }
  if (policies_.contains(domain) && MergesInto(kPolicyRef | domain, uuid)) {
    Contributor content;
    content.send = policy.send;
    content.receive = policy.receive;
    Contribute(kPolicyRef | domain, uuid, std::move(content));
    return;
  }
  StorePolicy(domain, policy.send, policy.receive);
  SetUuid(kPolicyRef | domain, &policies_[domain].uuid, uuid);
  MarkRef(kPolicyRef | domain);
}

void MirrorTables::PutDomainPolicyByName(const DomainPolicy& policy) {
  RecordPolicyWrite(policy.domain);
  StorePolicy(InternDomain(policy.domain), policy.send, policy.receive);
}

void MirrorTables::StorePolicy(uint32_t domain, SecureMode send,
                               SecureMode receive) {
  const auto [it, added] = policies_.try_emplace(domain);
  PolicySlot& slot = it->second;
  if (added || slot.send != send || slot.receive != receive) {
    Touch(ChangeSubject::kDomainPolicy, DomainName(domain));
  }
  slot.send = send;
  slot.receive = receive;
}

void MirrorTables::RemovePolicy(uint32_t domain) {
  const auto it = policies_.find(domain);
  if (it == policies_.end()) return;
  Touch(ChangeSubject::kDomainPolicy, DomainName(domain));
  if (it->second.merged) DissolveGroup(kPolicyRef | domain);
  SetUuid(kPolicyRef | domain, &it->second.uuid, EntryUuid{});
  policies_.erase(domain);
}

void MirrorTables::RemoveDomainPolicyByName(absl::string_view domain) {
  RecordPolicyWrite(domain);
  const uint32_t id = FindDomain(domain);
  if (id != kNone) RemovePolicy(id);
}

// --- Any entry -------------------------------------------------------------

void MirrorTables::Remove(const EntryUuid& uuid) {
  const uint32_t ref = FindRef(uuid);
  if (ref == kNone) return;
  if (RefLeftAlone(ref)) {
    LeaveAlone(Describe(ref), kNone, uuid);
    return;
  }
  RemoveRef(ref);
}

void MirrorTables::RemoveRef(uint32_t ref) {
  const uint32_t number = ref & ~kRefKindMask;
  switch (ref & kRefKindMask) {
    case kPinRef:
      UnlinkPin(number);
      break;
    case kServerRef:
      RemoveServer(number);
      break;
    case kPolicyRef:
      RemovePolicy(number);
      break;
    default:
      Withdraw(number);
      break;
  }
}

void MirrorTables::BeginReload() {
  reloading_ = true;
  for (uint32_t i = 0; i < pins_.size(); ++i) pins_[i].present = 0;
  for (uint32_t i = 0; i < servers_.size(); ++i) servers_[i].present = false;
  for (auto& [domain, slot] : policies_) slot.present = false;
  for (Contributor& contributor : contributors_) contributor.present = false;
}

void MirrorTables::MarkPresent(const EntryUuid& uuid) {
  const uint32_t ref = FindRef(uuid);
  if (ref != kNone) MarkRef(ref);
}

void MirrorTables::AbortReload() { reloading_ = false; }

size_t MirrorTables::EndReload() {
  // Entries known by uuid (not those only written through dtrustd, whose
  // notification is still to come) that the reload did not see.
  std::vector<std::pair<uint32_t, EntryUuid>> gone;
  by_uuid_.ForAll([&](uint32_t ref) {
    if (!Present(ref)) gone.emplace_back(ref, RefUuid(ref));
  });
  reloading_ = false;
  // Pins first: removing a server removes its pins and frees their slots;
  // withdrawing a contributor can move another's uuid to its target. So
  // each is found again by its uuid, if still there.
  std::sort(gone.begin(), gone.end());
  size_t removed = 0;
  for (const auto& [listed, uuid] : gone) {
    const uint32_t ref = FindRef(uuid);
    if (ref == kNone) continue;
    if (RefLeftAlone(ref)) {
      LeaveAlone(Describe(ref), kNone, EntryUuid{});
      continue;
    }
    RemoveRef(ref);
    ++removed;
  }
  return removed;
}

// --- Names that normalize alike ---------------------------------------------

uint32_t MirrorTables::TargetOf(uint32_t ref) const {
  if ((ref & kRefKindMask) != kContributorRef) return ref;
  return contributors_[ref & ~kRefKindMask].target;
}

bool MirrorTables::IsMerged(uint32_t target) const {
  const uint32_t number = target & ~kRefKindMask;
  switch (target & kRefKindMask) {
    case kPinRef:
      return pins_[number].merged;
    case kServerRef:
      return servers_[number].merged;
    case kPolicyRef:
      return policies_.at(number).merged;
    default:
      return false;
  }
}

void MirrorTables::SetMerged(uint32_t target, bool merged) {
  const uint32_t number = target & ~kRefKindMask;
  switch (target & kRefKindMask) {
    case kPinRef:
      pins_[number].merged = merged;
      break;
    case kServerRef:
      servers_[number].merged = merged;
      break;
    default:
      policies_.at(number).merged = merged;
      break;
  }
}

bool MirrorTables::MergesInto(uint32_t target, const EntryUuid& uuid) {
  if (IsMerged(target)) return true;
  const EntryUuid& own = RefUuid(target);
  return !IsZero(own) && own != uuid;
}

MirrorTables::Contributor MirrorTables::ContentOf(uint32_t target) const {
  const uint32_t number = target & ~kRefKindMask;
  Contributor content;
  switch (target & kRefKindMask) {
    case kPinRef:
      content.pin = PinOf(number);
      break;
    case kServerRef: {
      const absl::InlinedVector<uint32_t, 4> domains = DomainsOf(number);
      content.domains.assign(domains.begin(), domains.end());
      break;
    }
    default:
      content.send = policies_.at(number).send;
      content.receive = policies_.at(number).receive;
      break;
  }
  return content;
}

void MirrorTables::ApplyContent(uint32_t target, const Contributor& content) {
  const uint32_t number = target & ~kRefKindMask;
  switch (target & kRefKindMask) {
    case kPinRef:
      StorePin(number, pins_[number].server, content.pin);
      break;
    case kServerRef:
      SetServerDomainIds(
          number, absl::InlinedVector<uint32_t, 4>(content.domains.begin(),
                                                   content.domains.end()));
      break;
    default:
      StorePolicy(number, content.send, content.receive);
      break;
  }
}

uint32_t MirrorTables::AddContributor(uint32_t target, const EntryUuid& uuid,
                                      Contributor content) {
  uint32_t number;
  if (free_contributors_.empty()) {
    number = static_cast<uint32_t>(contributors_.size());
    contributors_.emplace_back();
  } else {
    number = free_contributors_.back();
    free_contributors_.pop_back();
  }
  content.uuid = uuid;
  content.target = target;
  contributors_[number] = std::move(content);
  by_uuid_.Insert(kContributorRef | number);
  groups_[target].push_back(number);
  return number;
}

void MirrorTables::FreeContributor(uint32_t number) {
  by_uuid_.Erase(kContributorRef | number);
  contributors_[number] = Contributor{};
  free_contributors_.push_back(number);
}

void MirrorTables::Contribute(uint32_t target, const EntryUuid& uuid,
                              Contributor content) {
  const uint32_t known = FindRef(uuid);
  if (known != kNone && TargetOf(known) != target) {
    RemoveRef(known);  // Stale: the entry is here now.
  }
  if (!IsMerged(target)) {  // Its own entry becomes the first contributor.
    const EntryUuid own = RefUuid(target);
    const bool present = Present(target);
    SetUuid(target, UuidSlot(target), EntryUuid{});
    SetMerged(target, true);
    const uint32_t first = AddContributor(target, own, ContentOf(target));
    contributors_[first].present = present;
  }
  const uint32_t ref = FindRef(uuid);
  uint32_t number;
  if (ref == kNone) {
    number = AddContributor(target, uuid, std::move(content));
  } else {  // Changed: it counts as the one applied last.
    number = ref & ~kRefKindMask;
    content.uuid = uuid;
    content.target = target;
    content.present = contributors_[number].present;
    contributors_[number] = std::move(content);
    auto& group = groups_.at(target);
    group.erase(std::find(group.begin(), group.end(), number));
    group.push_back(number);
  }
  MarkRef(kContributorRef | number);
  ApplyMerge(target);
}

void MirrorTables::Withdraw(uint32_t contributor) {
  const uint32_t target = contributors_[contributor].target;
  auto& group = groups_.at(target);
  group.erase(std::find(group.begin(), group.end(), contributor));
  FreeContributor(contributor);
  if (group.size() > 1) {
    ApplyMerge(target);
    return;
  }
  // One left: its content and uuid become the target's own again.
  const uint32_t last = group[0];
  const Contributor remaining = std::move(contributors_[last]);
  FreeContributor(last);
  groups_.erase(target);
  SetMerged(target, false);
  ApplyContent(target, remaining);
  SetUuid(target, UuidSlot(target), remaining.uuid);
  SetPresent(target, remaining.present);
}

void MirrorTables::DissolveGroup(uint32_t target) {
  const auto it = groups_.find(target);
  if (it == groups_.end()) return;
  for (uint32_t contributor : it->second) FreeContributor(contributor);
  groups_.erase(it);
  SetMerged(target, false);
}

void MirrorTables::ApplyMerge(uint32_t target) {
  const auto& group = groups_.at(target);
  Contributor merged = contributors_[group.back()];  // A pin: the last one.
  for (uint32_t contributor : group) {
    const Contributor& content = contributors_[contributor];
    merged.domains.insert(merged.domains.end(), content.domains.begin(),
                          content.domains.end());
    merged.send = Stricter(merged.send, content.send);
    merged.receive = Stricter(merged.receive, content.receive);
  }
  ApplyContent(target, merged);  // Domains are sorted and made unique there.
}

void MirrorTables::MovePins(uint32_t from, uint32_t to) {
  if (servers_[from].first_pin != kNone)
    Touch(ChangeSubject::kServer, NameOf(to));
  while (servers_[from].first_pin != kNone) {
    const uint32_t number = servers_[from].first_pin;
    const uint32_t same = FindPin(to, pins_[number].cert);
    if (same == kNone) {  // Relinked as it is.
      servers_[from].first_pin = pins_[number].next_of_server;
      pins_[number].server = to;
      pins_[number].next_of_server = servers_[to].first_pin;
      servers_[to].first_pin = number;
      continue;
    }
    // Both servers have this certificate: one pin, from all their entries.
    std::vector<Contributor> entries;
    if (pins_[number].merged) {
      for (uint32_t contributor : groups_.at(kPinRef | number)) {
        entries.push_back(contributors_[contributor]);
      }
    } else if (!IsZero(pins_[number].uuid)) {
      entries.push_back(ContentOf(kPinRef | number));
      entries.back().uuid = pins_[number].uuid;
    }
    UnlinkPin(number);
    for (Contributor& entry : entries) {
      const EntryUuid uuid = entry.uuid;
      if (MergesInto(kPinRef | same, uuid)) {
        Contribute(kPinRef | same, uuid, std::move(entry));
      } else {
        ApplyContent(kPinRef | same, entry);
        SetUuid(kPinRef | same, &pins_[same].uuid, uuid);
      }
    }
  }
}

// --- Source reads ----------------------------------------------------------

void MirrorTables::BeginSourceRead() {
  local_writes_ = std::make_unique<LocalWrites>();
}

void MirrorTables::EndSourceRead() { local_writes_.reset(); }

MirrorTables::LocalWrites::Server* MirrorTables::RecordServerWrite(
    absl::string_view name) {
  if (local_writes_ == nullptr) return nullptr;
  return &local_writes_->servers[std::string(name)];
}

void MirrorTables::RecordPolicyWrite(absl::string_view domain) {
  if (local_writes_ != nullptr) local_writes_->domains.emplace(domain);
}

bool MirrorTables::ServerLeftAlone(absl::string_view name, bool removal) const {
  if (local_writes_ == nullptr) return false;
  const auto it = local_writes_->servers.find(name);
  if (it == local_writes_->servers.end()) return false;
  return it->second.entry || (removal && !it->second.pins.empty());
}

bool MirrorTables::PinLeftAlone(absl::string_view server,
                                const Sha256Digest& cert) const {
  if (local_writes_ == nullptr) return false;
  const auto it = local_writes_->servers.find(server);
  if (it == local_writes_->servers.end()) return false;
  return it->second.removed || it->second.pins.contains(cert);
}

bool MirrorTables::PolicyLeftAlone(absl::string_view domain) const {
  return local_writes_ != nullptr && local_writes_->domains.contains(domain);
}

bool MirrorTables::RefLeftAlone(uint32_t ref) const {
  if (local_writes_ == nullptr) return false;
  const uint32_t number = ref & ~kRefKindMask;
  switch (ref & kRefKindMask) {
    case kPinRef:
      return PinLeftAlone(NameOf(pins_[number].server), pins_[number].cert);
    case kServerRef:
      return ServerLeftAlone(NameOf(number), /*removal=*/true);
    case kPolicyRef:
      return PolicyLeftAlone(DomainName(number));
    default:
      return RefLeftAlone(contributors_[number].target);
  }
}

EntryUuid* MirrorTables::UuidSlot(uint32_t ref) {
  const uint32_t number = ref & ~kRefKindMask;
  switch (ref & kRefKindMask) {
    case kPinRef:
      return &pins_[number].uuid;
    case kServerRef:
      return &servers_[number].uuid;
    case kPolicyRef:
      return &policies_.at(number).uuid;
    default:
      return &contributors_[number].uuid;
  }
}

std::string MirrorTables::Describe(uint32_t ref) const {
  const uint32_t number = ref & ~kRefKindMask;
  switch (ref & kRefKindMask) {
    case kPinRef:
      return absl::StrCat("pin ", pins_[number].cert.ToHex(), " of server ",
                          NameOf(pins_[number].server));
    case kServerRef:
      return absl::StrCat("server ", NameOf(number));
    case kPolicyRef:
      return absl::StrCat("the domain policy of ", DomainName(number));
    default:
      return Describe(contributors_[number].target);
  }
}

void MirrorTables::LeaveAlone(absl::string_view what, uint32_t ref,
                              const EntryUuid& uuid) {
  Log(LogLevel::kDebug,
      absl::StrCat("mirror: keeping ", what,
                   " as written through dtrustd since this directory read "
                   "began, not as read"));
  if (ref == kNone || IsZero(uuid) || FindRef(uuid) != kNone || IsMerged(ref)) {
    return;
  }
  EntryUuid* slot_uuid = UuidSlot(ref);
  if (IsZero(*slot_uuid)) SetUuid(ref, slot_uuid, uuid);
}

// --- Reads -----------------------------------------------------------------

PinRecord MirrorTables::PinOf(uint32_t number) const {
  const PinSlot& slot = pins_[number];
  PinRecord pin;
  pin.cert_sha256 = slot.cert;
  pin.spki_sha256 = slot.spki;
  pin.kind = slot.public_key_pin ? PinKind::kPublicKey : PinKind::kCertificate;
  pin.provenance = slot.possession_proven ? PinProvenance::kPossessionProven
                                          : PinProvenance::kAsserted;
  pin.not_before = absl::FromUnixSeconds(slot.not_before);
  pin.not_after = absl::FromUnixSeconds(slot.not_after);
  if (slot.has_window) pin.window = windows_.at(number);
  pin.publisher = publishers_[slot.publisher].name;
  return pin;
}

ServerRecord MirrorTables::Record(uint32_t server, bool with_pins) const {
  const ServerSlot& slot = servers_[server];
  ServerRecord record;
  record.name = std::string(NameOf(server));
  for (uint32_t domain : DomainsOf(server)) {
    record.domains.emplace_back(DomainName(domain));
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
  absl::InlinedVector<uint32_t, 4> matches;
  if (cert_sha256 != nullptr) {
    by_cert_.ForEach(DigestHash(*cert_sha256), [&](uint32_t pin) {
      if (pins_[pin].cert == *cert_sha256) matches.push_back(pin);
      return true;
    });
  }
  if (spki_sha256 != nullptr) {
    by_spki_.ForEach(DigestHash(*spki_sha256), [&](uint32_t pin) {
      if (pins_[pin].spki == *spki_sha256 &&
          std::find(matches.begin(), matches.end(), pin) == matches.end()) {
        matches.push_back(pin);
      }
      return true;
    });
  }
  std::vector<ServerRecord> servers;
  absl::InlinedVector<uint32_t, 4> server_numbers;
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
    if (domain != kNone) {
      numbers.assign(domains_[domain].servers.begin(),
                     domains_[domain].servers.end());
    }
  } else {
    by_name_.ForAll([&](uint32_t server) { numbers.push_back(server); });
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
  return DomainPolicy{.domain = std::string(DomainName(id)),
                      .send = it->second.send,
                      .receive = it->second.receive};
}

std::vector<DomainPolicy> MirrorTables::ListDomainPolicies() const {
  std::vector<DomainPolicy> policies;
  for (const auto& [domain, slot] : policies_) {
    if (slot.send == SecureMode::kOff && slot.receive == SecureMode::kOff) {
      continue;
    }
    policies.push_back(DomainPolicy{.domain = std::string(DomainName(domain)),
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
  counts.servers = server_count_;
  counts.pins = pin_count_;
  for (const auto& [domain, slot] : policies_) {
    if (slot.send != SecureMode::kOff || slot.receive != SecureMode::kOff) {
      ++counts.domain_policies;
    }
  }
  uint64_t bytes = pins_.bytes() + servers_.bytes() + names_.bytes() +
                   by_cert_.bytes() + by_spki_.bytes() + by_uuid_.bytes() +
                   by_name_.bytes();
  bytes += HashMapBytes(windows_) + HashMapBytes(policies_) +
           HashMapBytes(extra_domains_) + HashMapBytes(publisher_ids_);
  bytes += domain_names_.bytes() + by_domain_.bytes() +
           domains_.capacity() * sizeof(DomainSlot);
  for (const DomainSlot& domain : domains_) {
    if (domain.servers.size() > 2) {
      bytes += domain.servers.capacity() * sizeof(uint32_t);
    }
  }
  for (const auto& [server, domains] : extra_domains_) {
    bytes += domains.capacity() * sizeof(uint32_t);
  }
  bytes += publishers_.capacity() * sizeof(Publisher);
  bytes += contributors_.capacity() * sizeof(Contributor) +
           free_contributors_.capacity() * sizeof(uint32_t) +
           HashMapBytes(groups_);
  counts.bytes = bytes;
  return counts;
}

}  // namespace dtrust
