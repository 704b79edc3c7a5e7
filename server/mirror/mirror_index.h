// An in-memory index of everything verification needs from the directory:
// servers with their mail domains, their pins (both digests, the
// certificate's validity, the pin's window, kind, provenance and publisher)
// and the Domain Security lists. It holds no certificates.
//
// Entries are those of the directory, identified by their entryUUID when the
// source knows it (content synchronization, polling) and otherwise by name:
// a server by its name, a pin by its server and certificate digest, a domain
// policy by its domain. Writes made through dtrustd are applied by name at
// once (so a writer reads its own writes); the change's own notification,
// which carries the entryUUID, arrives later and finds the same entry. A
// source whose reads a local write can overtake (a poll, an RFC 4533
// refresh) brackets them with BeginSourceRead / EndSourceRead, so that they
// cannot undo it.
//
// Thread-safe: reads take a shared lock, changes an exclusive one, each for
// one entry (a lookup costs no allocation but for its answer).
#ifndef DTRUST_SERVER_MIRROR_MIRROR_INDEX_H_
#define DTRUST_SERVER_MIRROR_MIRROR_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/core/digest.h"
#include "server/core/directory.h"
#include "server/core/domain_security.h"
#include "server/mirror/entry_uuid.h"

namespace dtrust {

struct MirrorCounts {
  uint64_t servers = 0;
  uint64_t pins = 0;
  uint64_t domain_policies = 0;  // Domains on at least one list.
  // Bytes the index's own tables occupy (capacity, not just size).
  uint64_t bytes = 0;
};

class MirrorTables;  // mirror_tables.h: the tables themselves.

class MirrorIndex {
 public:
  MirrorIndex();
  ~MirrorIndex();
  MirrorIndex(const MirrorIndex&) = delete;
  MirrorIndex& operator=(const MirrorIndex&) = delete;

  // --- Changes from the directory's content (sync or poll) ---------------
  // Each creates or replaces the entry `uuid` names (a non-zero uuid) with
  // the given content; an entry the source renamed (same uuid, another
  // name) moves. A pin whose server is not (yet) known creates it without
  // domains, as its entry may come later.
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

 private:
  mutable absl::Mutex mutex_;
  std::unique_ptr<MirrorTables> tables_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_MIRROR_MIRROR_INDEX_H_
