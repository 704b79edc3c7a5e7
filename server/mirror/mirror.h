// The mirror: the in-memory index plus what is known about its freshness.
// A sync source (server/ldap/ldap_sync_source.h, server/ldap/ldap_poller.h)
// keeps the index equal to the directory and reports here when it is; the
// MirroredDirectory asks here before answering from the index.
//
// Freshness: while a source follows the directory live (refreshAndPersist,
// session up), the data's age is zero. Otherwise it is the time since the
// index was last known to equal the directory (the last poll; the last sign
// of life of a sync session). The mirror serves while it has completed one
// load and its age is at most max_staleness; after that, and before the
// first load, reads are Unavailable - never "not published".
#ifndef DTRUST_SERVER_MIRROR_MIRROR_H_
#define DTRUST_SERVER_MIRROR_MIRROR_H_

#include <atomic>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/core/clock.h"
#include "server/core/directory_status.h"
#include "server/mirror/change_log.h"
#include "server/mirror/mirror_index.h"

namespace dtrust {

struct MirrorOptions {
  SyncMode mode = SyncMode::kRefreshAndPersist;  // Not kNone.
  absl::Duration max_staleness = absl::Minutes(5);
  // How many changes the change feed keeps (--watch-change-log); >= 1.
  size_t change_log_capacity = 10000;
};

// Thread-safe. Does not own `clock`, which must outlive it.
class Mirror : public DirectoryMonitor {
 public:
  Mirror(const MirrorOptions& options, const Clock* clock);

  MirrorIndex& index() { return index_; }
  const MirrorIndex& index() const { return index_; }

  // The change feed of the index (docs/watch.md): every change to the index
  // appends the names it touched while the index's write lock is held, so a
  // reader that takes changes().Current() and then reads the index sees
  // every change up to that position in what it reads; later ones follow as
  // changes (idempotent: read the current value when sending). Listeners of
  // the feed run under the index's write lock: they must only signal.
  ChangeLog& changes() { return changes_; }
  const ChangeLog& changes() const { return changes_; }
  // A full (re)load happened: a new random epoch, so that watchers take a
  // new snapshot instead of a burst of changes. Made by the first load
  // (MarkCurrent) and by the sync source after a full-content refresh.
  void StartEpoch();

  // --- For the sync source ---
  // A session with the directory at `uri` is up (the index may not be
  // current yet).
  void MarkConnected(absl::string_view uri);
  // The index equalled the directory at `as_of`; `live`: and keeps doing so
  // (changes are pushed as they happen) until MarkDisconnected. A live
  // source calls this on every sign of life of its session (at least every
  // few seconds): the data ages from the last call once it disconnects.
  void MarkCurrent(absl::Time as_of, bool live);
  // The session is gone (`error` says why); the data ages from the last
  // MarkCurrent on.
  void MarkDisconnected(absl::string_view error);

  // --- For readers ---
  // OK while serving; otherwise Unavailable saying why (not loaded yet, or
  // how old the data is and since when the directory is unreachable).
  absl::Status CheckServing() const;

  DirectoryStatus Status() const override;
  std::optional<absl::Duration> SnapshotAge() const override;
  // Listeners hear of the first load, of the data going live or stopping to
  // be, and of each MarkCurrent that moves recheck_at (each poll): never of
  // a live source's signs of life.
  int Subscribe(Listener listener) const override {
    return listeners_.Add(std::move(listener));
  }
  void Unsubscribe(int id) const override { listeners_.Remove(id); }

 private:
  // Whether serving, and until when if nothing is reported.
  struct Readiness {
    bool serving = false;
    std::optional<absl::Time> recheck_at;
    bool operator==(const Readiness&) const = default;
  };
  Readiness ReadinessLocked(absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  std::optional<absl::Duration> AgeLocked(absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const MirrorOptions options_;
  const Clock* const clock_;
  const absl::Time started_;
  ChangeLog changes_;
  MirrorIndex index_;

  mutable absl::Mutex mutex_;
  bool connected_ ABSL_GUARDED_BY(mutex_) = false;
  // Written under mutex_; read without it on the query path (CheckServing,
  // SnapshotAge): while live the answer needs neither the lock nor the clock.
  std::atomic<bool> live_{false};
  std::string uri_ ABSL_GUARDED_BY(mutex_);
  std::string last_error_ ABSL_GUARDED_BY(mutex_);
  std::optional<absl::Time> last_current_ ABSL_GUARDED_BY(mutex_);
  std::optional<absl::Duration> initial_load_ ABSL_GUARDED_BY(mutex_);
  mutable StatusListeners listeners_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_MIRROR_MIRROR_H_
