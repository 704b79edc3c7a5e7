// The tables behind MirrorIndex (mirror_index.h, which describes the index
// and locks it): its operations. Thread-compatible.
//
// Layout, chosen for memory (issue 4: at most 150 bytes per pinned
// certificate): pins live in fixed-size slots of 100 bytes (both digests,
// entryUUID, validity, links) in chunked arrays, found through compact hash
// multisets of slot numbers (slot_index.h, about 5.3 bytes an entry) keyed by
// the digest or uuid stored in the slot itself; a pin costs about 116 bytes.
// A server costs about 70 more: a 32-byte slot, its name packed in an arena,
// its entries in the name, uuid and domain indexes. Pin windows (rare) live
// in a side map, publishers are interned, and so are domains.
#ifndef DTRUST_SERVER_MIRROR_MIRROR_TABLES_H_
#define DTRUST_SERVER_MIRROR_MIRROR_TABLES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "server/core/digest.h"
#include "server/core/directory.h"
#include "server/core/domain_security.h"
#include "server/mirror/change_log.h"
#include "server/mirror/entry_uuid.h"
#include "server/mirror/name_arena.h"
#include "server/mirror/slot_index.h"

namespace dtrust {

// How much the index holds, for status and the benchmarks.
struct MirrorCounts {
  uint64_t servers = 0;
  uint64_t pins = 0;
  uint64_t domain_policies = 0;  // Domains on at least one list.
  // Bytes the index's own tables occupy (capacity, not just size).
  uint64_t bytes = 0;
};

class MirrorTables {
 public:
  MirrorTables() = default;
  MirrorTables(const MirrorTables&) = delete;
  MirrorTables& operator=(const MirrorTables&) = delete;

  // --- Changes from the directory's content (sync or poll) ---------------
  // Each creates or replaces the entry `uuid` names (a non-zero uuid) with
  // the given content; an entry the source renamed (same uuid, another
  // name) moves. A pin whose server is not (yet) known creates it without
  // domains, as its entry may come later.
  //
  // Entries whose names normalize alike (cn=org-c.example and
  // cn=ORG-C.example. arrive with the same normalized name and different
  // uuids) are read as one, as LdapDirectory reads them: a server with the
  // domains of all its entries (and the pins below any), a domain policy
  // with the stricter mode in each direction, a pin (same server and
  // certificate under two spellings) as the one applied last. Each
  // contributing entry's own content is kept (a "contributor", only for
  // names with more than one entry), so that removing, changing or renaming
  // one leaves the others' contribution.
  void PutServer(const EntryUuid& uuid, absl::string_view name,
                 const std::vector<std::string>& domains);
  void PutPin(const EntryUuid& uuid, absl::string_view server,
              const PinRecord& pin);
  // A policy with both directions kOff puts the domain on no list.
  void PutDomainPolicy(const EntryUuid& uuid, const DomainPolicy& policy);
  // Removes the entry `uuid` names, if any. Removing a server removes its
  // pins too (the directory only deletes leaves, so they are gone already).
  void Remove(const EntryUuid& uuid);

  // A full reload (RFC 4533 present phase, a poll): BeginReload, then every
  // entry that still exists is Put or MarkPresent, then EndReload removes
  // every entry with a uuid that was neither. Entries without a uuid (local
  // writes not yet confirmed by the source) are kept. Returns how many
  // entries EndReload removed.
  void BeginReload();
  void MarkPresent(const EntryUuid& uuid);
  size_t EndReload();
  // Ends a reload without removing anything (the source said what was
  // deleted itself: an RFC 4533 delete phase).
  void AbortReload();

  // A source read (each poll, each RFC 4533 refresh): the source reads the
  // directory after BeginSourceRead and applies what it read until
  // EndSourceRead, possibly after local writes made meanwhile - a page read
  // before an unpublish and applied after it would publish the pin again until
  // the next read. So until EndSourceRead, the changes above (Put*, Remove,
  // EndReload's removals) leave every entry written locally since
  // BeginSourceRead as the write left it: the read cannot tell whether it saw
  // the entry before or after the write, and the next read, begun after the
  // write, brings any later change. Entries written locally: a pin by server
  // and certificate digest (PutPinByName, RemovePinByName; the pin also keeps
  // its server from being removed), a server entry by name
  // (AddServerDomains, RemoveServerByName; a removal also covers all its
  // pins), a domain policy by domain. Content for any other entry applies
  // as usual. Content left alone for an entry without a uuid (a local write
  // not yet confirmed) gives it the content's uuid, so that the source can
  // still remove it later. Each entry left alone is logged (debug).
  // One read at a time (a second BeginSourceRead starts afresh); local
  // writes are recorded only while one is open and forgotten by
  // EndSourceRead: nothing is kept between reads.
  void BeginSourceRead();
  void EndSourceRead();

  // --- Local writes, by name (see the class comment) ----------------------
  // Creates the server or adds `domains` to it.
  void AddServerDomains(absl::string_view name,
                        const std::vector<std::string>& domains);
  // Creates or replaces the server's pin with pin.cert_sha256.
  void PutPinByName(absl::string_view server, const PinRecord& pin);
  void RemovePinByName(absl::string_view server,
                       const Sha256Digest& cert_sha256);
  void RemoveServerByName(absl::string_view name);
  void PutDomainPolicyByName(const DomainPolicy& policy);
  void RemoveDomainPolicyByName(absl::string_view domain);

  // --- Reads (Directory semantics; pins have no `der` and no `subject`) ---
  std::vector<ServerRecord> FindByDigest(const Sha256Digest* cert_sha256,
                                         const Sha256Digest* spki_sha256) const;
  // Sorted by name.
  std::vector<ServerRecord> FindServers(const ServerFilter& filter) const;
  std::optional<DomainPolicy> GetDomainPolicy(absl::string_view domain) const;
  // Sorted by domain.
  std::vector<DomainPolicy> ListDomainPolicies() const;

  MirrorCounts Counts() const;

  // --- The change feed (docs/watch.md) -------------------------------------
  // From now on, every change to what the reads above answer appends to
  // `log` the server name or policy domain it touched (each one, when a
  // change touches several), while the change is being made: a caller that
  // holds the index's lock makes the appends in the same critical section
  // as the change. Entries rewritten with the content they already have
  // append nothing, so a poll or refresh that finds nothing new is silent.
  // `log` (not owned) must outlive the tables; nullptr: no feed.
  void SetChangeLog(ChangeLog* log) { change_log_ = log; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  // Pins and servers are numbered below 2^26 (a reference spends two more
  // bits on its kind, see RefKind); the tables abort beyond.
  static constexpr uint32_t kMaxSlots = 1u << 26;

  // A pin. The certificate's validity is kept in unsigned 32-bit Unix
  // seconds, clamped to 1970-2106: a date outside moves inward, which can
  // only make an answer stricter (a certificate valid until 9999 counts as
  // expired from 2106 on).
  struct PinSlot {
    Sha256Digest cert;
    Sha256Digest spki;
    EntryUuid uuid{};
    uint32_t not_before = 0;
    uint32_t not_after = 0;
    uint32_t server = kNone;          // kNone: a free slot.
    uint32_t next_of_server = kNone;  // Also links free slots.
    uint32_t publisher : 24 = 0;      // Interned; 0: none.
    uint32_t public_key_pin : 1 = 0;  // PinKind::kPublicKey, else kCertificate.
    uint32_t possession_proven : 1 = 0;  // PinProvenance.
    uint32_t has_window : 1 = 0;         // In windows_.
    uint32_t present : 1 = 0;            // Seen by the reload in progress.
    uint32_t merged : 1 = 0;             // Has contributors (groups_).
  };
  static_assert(sizeof(PinSlot) == 100, "a pin's slot is 100 bytes");
  struct ServerSlot {
    EntryUuid uuid{};
    uint32_t name = kNone;       // Offset in names_; kNone: a free slot.
    uint32_t first_pin = kNone;  // Also links free slots.
    // Its first domain in name order (interned), kNone if none; the others,
    // if any, in extra_domains_.
    uint32_t domain = kNone;
    bool more_domains = false;
    bool present = false;  // Seen by the reload in progress.
    bool merged = false;   // Has contributors (groups_).
  };
  static_assert(sizeof(ServerSlot) == 32, "a server's slot is 32 bytes");
  struct PolicySlot {
    SecureMode send = SecureMode::kOff;
    SecureMode receive = SecureMode::kOff;
    EntryUuid uuid{};
    bool present = false;  // Seen by the reload in progress.
    bool merged = false;   // Has contributors (groups_).
  };
  // One of several entries whose names normalize alike (see PutServer): its
  // uuid and its own content; the merged entry (the "target") has no uuid of
  // its own while it has contributors, and at least two.
  struct Contributor {
    EntryUuid uuid{};
    uint32_t target = kNone;  // A pin, server or policy ref; kNone: free.
    bool present = false;     // Seen by the reload in progress.
    absl::InlinedVector<uint32_t, 2> domains{};  // A server's, interned.
    SecureMode send = SecureMode::kOff;          // A domain policy's.
    SecureMode receive = SecureMode::kOff;
    PinRecord pin{};  // A pin's.
  };
  struct Publisher {
    std::string name{};
    uint32_t references = 0;
  };

  // A reference to any entry in the uuid index: the kind in bits 26-27.
  enum RefKind : uint32_t {
    kPinRef = 0u << 26,
    kServerRef = 1u << 26,
    kPolicyRef = 2u << 26,       // The number is the interned domain.
    kContributorRef = 3u << 26,  // The number is in contributors_.
  };
  static constexpr uint32_t kRefKindMask = 3u << 26;

  static uint64_t DigestHash(const Sha256Digest& digest);
  static uint64_t UuidHash(const EntryUuid& uuid);
  static uint64_t NameHash(absl::string_view name);
  // The hash of the key of a slot number in each index.
  struct CertHash {
    const MirrorTables* tables;
    uint64_t operator()(uint32_t pin) const {
      return DigestHash(tables->pins_[pin].cert);
    }
  };
  struct SpkiHash {
    const MirrorTables* tables;
    uint64_t operator()(uint32_t pin) const {
      return DigestHash(tables->pins_[pin].spki);
    }
  };
  struct UuidRefHash {
    const MirrorTables* tables;
    uint64_t operator()(uint32_t ref) const {
      return UuidHash(tables->RefUuid(ref));
    }
  };
  struct NameHashOfServer {
    const MirrorTables* tables;
    uint64_t operator()(uint32_t server) const {
      return NameHash(tables->NameOf(server));
    }
  };

  struct NameHashOfDomain {
    const MirrorTables* tables;
    uint64_t operator()(uint32_t domain) const {
      return NameHash(tables->DomainName(domain));
    }
  };

  const EntryUuid& RefUuid(uint32_t ref) const;
  uint32_t FindRef(const EntryUuid& uuid) const;  // kNone if absent.
  static bool IsZero(const EntryUuid& uuid);
  absl::string_view NameOf(uint32_t server) const {
    return names_.Get(servers_[server].name);
  }
  absl::string_view DomainName(uint32_t domain) const {
    return domain_names_.Get(domains_[domain].name);
  }

  uint32_t FindServer(absl::string_view name) const;  // kNone if absent.
  uint32_t FindOrAddServer(absl::string_view name);
  void RenameServer(uint32_t server, absl::string_view name);
  uint32_t FindPin(uint32_t server, const Sha256Digest& cert) const;
  uint32_t InternDomain(absl::string_view domain);
  uint32_t FindDomain(absl::string_view domain) const;  // kNone if absent.
  uint32_t InternPublisher(absl::string_view publisher);
  void ReleasePublisher(uint32_t id);

  // The server's domains (interned), in name order.
  absl::InlinedVector<uint32_t, 4> DomainsOf(uint32_t server) const;
  void SetServerDomains(uint32_t server, const std::vector<std::string>& names);
  void SetServerDomainIds(uint32_t server,
                          absl::InlinedVector<uint32_t, 4> domains);
  absl::InlinedVector<uint32_t, 2> InternDomains(
      const std::vector<std::string>& names);
  void SetUuid(uint32_t ref, EntryUuid* slot_uuid, const EntryUuid& uuid);
  // Appends a change of `name` to the change log, if any.
  void Touch(ChangeSubject subject, absl::string_view name) {
    if (change_log_ != nullptr) change_log_->Append(subject, name);
  }
  // Whether slot `slot_number` already holds what StorePin would store.
  bool StoredAs(uint32_t slot_number, const PinRecord& pin) const;
  // Creates or rewrites the policy of `domain`.
  void StorePolicy(uint32_t domain, SecureMode send, SecureMode receive);
  // Writes `pin` into slot `slot` of `server` (new or existing).
  void StorePin(uint32_t slot, uint32_t server, const PinRecord& pin);
  uint32_t AddPin(uint32_t server, const PinRecord& pin);
  void UnlinkPin(uint32_t slot);
  void RemoveServer(uint32_t server);
  void RemovePolicy(uint32_t domain);
  void MarkRef(uint32_t ref);  // Seen by the reload in progress, if any.
  bool Present(uint32_t ref) const;
  void SetPresent(uint32_t ref, bool present);

  // Removes the entry `ref` refers to.
  void RemoveRef(uint32_t ref);

  // Names that normalize alike (see PutServer). The entry a ref is part of:
  // a contributor's target, else the ref itself.
  uint32_t TargetOf(uint32_t ref) const;
  bool IsMerged(uint32_t target) const;
  void SetMerged(uint32_t target, bool merged);
  // Whether content for `uuid` must merge into `target` (an existing entry
  // of the same name): it has contributors, or another entry's uuid.
  bool MergesInto(uint32_t target, const EntryUuid& uuid);
  // Adds (or updates) `uuid`, with the content in `content`, as a
  // contributor of `target`, turning the target's own entry into its first
  // contributor if it had none; then applies the merge.
  void Contribute(uint32_t target, const EntryUuid& uuid, Contributor content);
  // The target's own content as a contributor's, and back.
  Contributor ContentOf(uint32_t target) const;
  void ApplyContent(uint32_t target, const Contributor& content);
  // A new contributor of `target` (in groups_ and by_uuid_), and its end.
  uint32_t AddContributor(uint32_t target, const EntryUuid& uuid,
                          Contributor content);
  void FreeContributor(uint32_t number);
  // Moves the pins of server `from` to server `to` (a rename onto its name);
  // a certificate both have becomes one pin with the entries of both.
  void MovePins(uint32_t from, uint32_t to);
  // Removes a contributor, leaving the others' merge (their only one's
  // content again, as the target's own, when one is left).
  void Withdraw(uint32_t contributor);
  // Forgets every contributor of a target being removed.
  void DissolveGroup(uint32_t target);
  // Writes the merge of the target's contributors into it.
  void ApplyMerge(uint32_t target);

  // Source reads (mirror_index.h): what was written locally since one
  // began, recorded only while one is open.
  struct LocalWrites {
    struct Server {
      bool entry = false;    // Its domains, or itself, written.
      bool removed = false;  // Removed, its pins with it.
      absl::flat_hash_set<Sha256Digest> pins{};  // Put or removed.
    };
    absl::flat_hash_map<std::string, Server> servers{};  // By name.
    absl::flat_hash_set<std::string> domains{};          // Their policies.
  };
  bool HasLocalWrites() const {
    return local_writes_ != nullptr &&
           (!local_writes_->servers.empty() || !local_writes_->domains.empty());
  }
  // What a local write records; nullptr while no read is open.
  LocalWrites::Server* RecordServerWrite(absl::string_view name);
  void RecordPolicyWrite(absl::string_view domain);
  // Whether the source must leave alone (not put, not remove) the server
  // entry `name` (`removal`: removing it, which would take its pins along),
  // the pin `cert` of server `server`, the policy of `domain`, or the entry
  // `ref` refers to (to remove it, or to give its uuid to another entry).
  bool ServerLeftAlone(absl::string_view name, bool removal) const;
  bool PinLeftAlone(absl::string_view server, const Sha256Digest& cert) const;
  bool PolicyLeftAlone(absl::string_view domain) const;
  bool RefLeftAlone(uint32_t ref) const;
  // For content `uuid` left alone: gives `uuid` to the entry `ref` with the
  // content's name (kNone if none) if it has no uuid yet and no entry has
  // `uuid`, so that the source can remove it later. Logs `what` (debug).
  void LeaveAlone(absl::string_view what, uint32_t ref, const EntryUuid& uuid);
  EntryUuid* UuidSlot(uint32_t ref);
  std::string Describe(uint32_t ref) const;  // For the log.

  ServerRecord Record(uint32_t server, bool with_pins) const;
  PinRecord PinOf(uint32_t slot) const;

  SlotArray<PinSlot> pins_;
  uint32_t free_pins_ = kNone;  // Chained through next_of_server.
  uint32_t pin_count_ = 0;
  SlotArray<ServerSlot> servers_;
  uint32_t free_servers_ = kNone;  // Chained through first_pin.
  uint32_t server_count_ = 0;
  NameArena names_;
  SlotIndex<CertHash> by_cert_{CertHash{this}};
  SlotIndex<SpkiHash> by_spki_{SpkiHash{this}};
  SlotIndex<UuidRefHash> by_uuid_{UuidRefHash{this}};
  SlotIndex<NameHashOfServer> by_name_{NameHashOfServer{this}};
  static_assert(SlotIndex<CertHash>::kNotFound == kNone);
  absl::flat_hash_map<uint32_t, PinWindow> windows_;  // By pin slot.
  std::vector<Publisher> publishers_ = std::vector<Publisher>(1);  // [0]: none.
  absl::flat_hash_map<std::string, uint32_t> publisher_ids_;
  // Interned domains, numbered from 0, never released (domains come and go
  // rarely): each one's name (offset in domain_names_) and servers.
  struct DomainSlot {
    uint32_t name = 0;
    absl::InlinedVector<uint32_t, 2> servers{};
  };
  NameArena domain_names_;
  std::vector<DomainSlot> domains_;
  SlotIndex<NameHashOfDomain> by_domain_{NameHashOfDomain{this}};
  // By server: its domains after the first, for servers with several.
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> extra_domains_;
  absl::flat_hash_map<uint32_t, PolicySlot> policies_;  // By domain.
  // Names with more than one entry (rare): the contributors, in
  // contributors_ (free slots listed in free_contributors_), of each merged
  // target ref, the one applied last last.
  std::vector<Contributor> contributors_;
  std::vector<uint32_t> free_contributors_;
  absl::flat_hash_map<uint32_t, absl::InlinedVector<uint32_t, 2>> groups_;
  bool reloading_ = false;
  std::unique_ptr<LocalWrites> local_writes_;  // While a source read is open.
  ChangeLog* change_log_ = nullptr;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_MIRROR_MIRROR_TABLES_H_
