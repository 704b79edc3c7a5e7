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
// cannot undo it. The operations are those of MirrorTables
// (mirror_tables.h), which documents each.
//
// Thread-safe: Read() gives the tables under a shared lock, Write() under an
// exclusive one, each held until the end of the full expression that made
// it (index.Read()->FindByDigest(...)): one entry's change or lookup at a
// time, as a lookup costs no allocation but for its answer. Never take two
// views at once in one thread.
#ifndef DTRUST_SERVER_MIRROR_MIRROR_INDEX_H_
#define DTRUST_SERVER_MIRROR_MIRROR_INDEX_H_

#include "absl/synchronization/mutex.h"
#include "server/mirror/mirror_tables.h"

namespace dtrust {

class MirrorIndex {
 public:
  // The tables, locked while the view exists.
  template <typename Tables, typename Lock>
  class LockedView {
   public:
    LockedView(absl::Mutex* mutex, Tables* tables)
        : lock_(mutex), tables_(tables) {}
    LockedView(const LockedView&) = delete;
    LockedView& operator=(const LockedView&) = delete;
    Tables* operator->() const { return tables_; }

   private:
    Lock lock_;
    Tables* const tables_;
  };
  using ReadView = LockedView<const MirrorTables, absl::ReaderMutexLock>;
  using WriteView = LockedView<MirrorTables, absl::WriterMutexLock>;

  MirrorIndex() = default;
  MirrorIndex(const MirrorIndex&) = delete;
  MirrorIndex& operator=(const MirrorIndex&) = delete;

  // Lookups (Directory semantics; pins have no `der` and no `subject`) and
  // Counts.
  ReadView Read() const { return ReadView(&mutex_, &tables_); }
  // Changes from the directory's content, reloads, source reads and local
  // writes.
  WriteView Write() { return WriteView(&mutex_, &tables_); }

 private:
  mutable absl::Mutex mutex_;
  MirrorTables tables_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_MIRROR_MIRROR_INDEX_H_
