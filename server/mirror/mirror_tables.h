// The tables behind MirrorIndex (mirror_index.h), which documents the
// operations; this class adds no locking (thread-compatible).
//
// Layout, chosen for memory: pins live in one vector of fixed-size slots
// (digests, validity, links; 120 bytes), found through hash sets of slot
// numbers (4 bytes a slot) keyed by the digest or uuid stored in the slot
// itself. Pins sharing a digest (a certificate published for several
// servers) are chained through their slots, and so are a server's pins.
// Pin windows, rare, live in a side map; publishers are interned.
#ifndef DTRUST_SERVER_MIRROR_MIRROR_TABLES_H_
#define DTRUST_SERVER_MIRROR_MIRROR_TABLES_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "server/core/digest.h"
#include "server/core/directory.h"
#include "server/core/domain_security.h"
#include "server/mirror/mirror_index.h"

namespace dtrust {

class MirrorTables {
 public:
  MirrorTables();
  MirrorTables(const MirrorTables&) = delete;
  MirrorTables& operator=(const MirrorTables&) = delete;

  void PutServer(const EntryUuid& uuid, absl::string_view name,
                 const std::vector<std::string>& domains);
  void PutPin(const EntryUuid& uuid, absl::string_view server,
              const PinRecord& pin);
  void PutDomainPolicy(const EntryUuid& uuid, const DomainPolicy& policy);
  void Remove(const EntryUuid& uuid);
  void BeginReload();
  void MarkPresent(const EntryUuid& uuid);
  size_t EndReload();
  void AbortReload();

  void AddServerDomains(absl::string_view name,
                        const std::vector<std::string>& domains);
  void PutPinByName(absl::string_view server, const PinRecord& pin);
  void RemovePinByName(absl::string_view server,
                       const Sha256Digest& cert_sha256);
  void RemoveServerByName(absl::string_view name);
  void PutDomainPolicyByName(const DomainPolicy& policy);
  void RemoveDomainPolicyByName(absl::string_view domain);

  std::vector<ServerRecord> FindByDigest(const Sha256Digest* cert_sha256,
                                         const Sha256Digest* spki_sha256) const;
  std::vector<ServerRecord> FindServers(const ServerFilter& filter) const;
  std::optional<DomainPolicy> GetDomainPolicy(absl::string_view domain) const;
  std::vector<DomainPolicy> ListDomainPolicies() const;
  MirrorCounts Counts() const;

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  struct PinSlot {
    Sha256Digest cert;
    Sha256Digest spki;
    EntryUuid uuid{};
    int64_t not_before = 0;  // Unix seconds: the certificate's validity.
    int64_t not_after = 0;
    uint32_t server = kNone;  // kNone: a free slot.
    uint32_t next_same_cert = kNone;
    uint32_t next_same_spki = kNone;
    uint32_t next_of_server = kNone;  // Also links free slots.
    uint32_t publisher = 0;           // Interned; 0: none.
    PinKind kind = PinKind::kCertificate;
    PinProvenance provenance = PinProvenance::kAsserted;
    bool has_window = false;
  };
  struct ServerSlot {
    std::string name{};  // Empty: a free slot.
    // Interned, sorted by name; most servers have one or two.
    absl::InlinedVector<uint32_t, 4> domains{};
    EntryUuid uuid{};
    uint32_t first_pin = kNone;
  };
  struct PolicySlot {
    SecureMode send = SecureMode::kOff;
    SecureMode receive = SecureMode::kOff;
    EntryUuid uuid{};
  };
  struct Publisher {
    std::string name{};
    uint32_t references = 0;
  };

  // A reference to any entry in the uuid set: the kind in the top two bits.
  enum RefKind : uint32_t {
    kPinRef = 0u << 30,
    kServerRef = 1u << 30,
    kPolicyRef = 2u << 30,  // The number is the interned domain.
  };
  static constexpr uint32_t kRefKindMask = 3u << 30;

  static size_t HashBytes(const uint8_t* bytes) {
    uint64_t word;
    std::memcpy(&word, bytes, sizeof(word));
    return absl::HashOf(word);
  }

  // Hash sets of slot numbers, looked up by what the slot holds.
  // Looks slots up by the digest `Field` of their pin.
  template <Sha256Digest PinSlot::*Field>
  struct DigestKey {
    const std::vector<PinSlot>* pins;
    using is_transparent = void;
    const Sha256Digest& Of(uint32_t i) const { return (*pins)[i].*Field; }
    const Sha256Digest& Of(const Sha256Digest& d) const { return d; }
    template <typename A>
    size_t operator()(const A& a) const {
      return HashBytes(reinterpret_cast<const uint8_t*>(Of(a).bytes().data()));
    }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Of(a) == Of(b);
    }
  };
  using CertKey = DigestKey<&PinSlot::cert>;
  using SpkiKey = DigestKey<&PinSlot::spki>;
  struct UuidKey {
    const MirrorTables* tables;
    using is_transparent = void;
    const EntryUuid& Of(uint32_t ref) const { return tables->RefUuid(ref); }
    const EntryUuid& Of(const EntryUuid& uuid) const { return uuid; }
    template <typename A>
    size_t operator()(const A& a) const {
      return absl::HashOf(absl::string_view(
          reinterpret_cast<const char*>(Of(a).data()), Of(a).size()));
    }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Of(a) == Of(b);
    }
  };
  struct NameKey {
    const std::vector<ServerSlot>* servers;
    using is_transparent = void;
    absl::string_view Of(uint32_t i) const { return (*servers)[i].name; }
    absl::string_view Of(absl::string_view name) const { return name; }
    template <typename A>
    size_t operator()(const A& a) const {
      return absl::HashOf(Of(a));
    }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Of(a) == Of(b);
    }
  };

  const EntryUuid& RefUuid(uint32_t ref) const;
  static bool IsZero(const EntryUuid& uuid);

  uint32_t FindServer(absl::string_view name) const;  // kNone if absent.
  uint32_t FindOrAddServer(absl::string_view name);
  uint32_t FindPin(uint32_t server, const Sha256Digest& cert) const;
  uint32_t InternDomain(absl::string_view domain);
  uint32_t FindDomain(absl::string_view domain) const;  // kNone if absent.
  uint32_t InternPublisher(absl::string_view publisher);
  void ReleasePublisher(uint32_t id);

  void SetServerDomains(uint32_t server, const std::vector<std::string>& names);
  void SetUuid(uint32_t ref, EntryUuid* slot_uuid, const EntryUuid& uuid);
  // Writes `pin` into slot `slot` of `server` (new or existing).
  void StorePin(uint32_t slot, uint32_t server, const PinRecord& pin);
  uint32_t AddPin(uint32_t server, const PinRecord& pin);
  void UnlinkPin(uint32_t slot);
  void RemoveServer(uint32_t server);
  void RemovePolicy(uint32_t domain);
  void MarkRef(uint32_t ref);

  ServerRecord Record(uint32_t server, bool with_pins) const;
  PinRecord PinOf(uint32_t slot) const;

  std::vector<PinSlot> pins_;
  uint32_t free_pins_ = kNone;  // Chained through next_of_server.
  uint32_t pin_count_ = 0;
  std::vector<ServerSlot> servers_;
  std::vector<uint32_t> free_servers_;
  absl::flat_hash_set<uint32_t, CertKey, CertKey> by_cert_;
  absl::flat_hash_set<uint32_t, SpkiKey, SpkiKey> by_spki_;
  absl::flat_hash_set<uint32_t, UuidKey, UuidKey> by_uuid_;
  absl::flat_hash_set<uint32_t, NameKey, NameKey> by_name_;
  absl::flat_hash_map<uint32_t, PinWindow> windows_;  // By pin slot.
  std::vector<Publisher> publishers_;                 // [0]: none.
  absl::flat_hash_map<std::string, uint32_t> publisher_ids_;
  std::vector<std::string> domain_names_;
  absl::flat_hash_map<std::string, uint32_t> domain_ids_;
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> servers_of_domain_;
  absl::flat_hash_map<uint32_t, PolicySlot> policies_;  // By domain.

  // Heap bytes of the servers' names and domain lists (see Counts()).
  uint64_t server_heap_bytes_ = 0;
  bool reloading_ = false;
  // During a reload: the entries confirmed present, by ref.
  absl::flat_hash_set<uint32_t> present_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_MIRROR_MIRROR_TABLES_H_
