// The in-process copy of dtrustd's pins (issue 14 §2, docs/watch.md): a
// Verifier that answers from a local copy fed by dtrustd's Watch stream, so
// that a handshake check makes no RPC.
#ifndef DTRUST_CLIENT_LIB_WATCH_VERIFIER_H_
#define DTRUST_CLIENT_LIB_WATCH_VERIFIER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/lib/verifier.h"
#include "client/lib/watch_source.h"
#include "server/core/clock.h"
#include "server/core/directory.h"
#include "server/core/trust_service.h"
#include "server/mirror/mirror_tables.h"

namespace dtrust::lib {

struct WatchVerifierOptions {
  // Deadline of a connection attempt (up to the first event).
  absl::Duration connect_timeout = absl::Seconds(5);
  // Deadline of each later read; dtrustd sends freshness at least every
  // max_staleness / 4, so a silent stream past this is broken.
  absl::Duration read_timeout = absl::Seconds(60);
  // Reconnection backoff: doubles from min to max after each failed
  // attempt, each wait drawn uniformly from [half, all] of it (jitter).
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
  // Bound on the entries (servers, pins, domain policies) the copy holds,
  // whether a snapshot or later changes bring them: a snapshot or change
  // past it is refused (the copy keeps its previous data and reconnects), so
  // a misbehaving server cannot exhaust the host's memory or the index's
  // capacity.
  uint64_t max_entries = 10'000'000;
  // How long Verify waits for the first complete snapshot (an application's
  // first checks at start); zero: it answers Unavailable at once.
  absl::Duration first_snapshot_wait = absl::ZeroDuration();
};

// Verifier over a local copy of dtrustd's data. One thread keeps a Watch
// stream open: it applies snapshot chunks to a new index built aside and
// swaps it in when the `last` chunk arrives (a half-received snapshot never
// answers), applies changes one by one, and on any break (error, deadline,
// a change with a version gap or another epoch, a protocol error) reconnects
// with backoff, resuming from its epoch and version.
//
// Verify runs dtrustd's own decision code (TrustService::Verify) over the
// copy, so its verdicts are those of dtrustd; errors are Unavailable with a
// reason: no complete snapshot yet, dtrustd not serving, or the copy older
// than the max_staleness dtrustd sent. The copy's age is the snapshot_age of
// the last WatchFreshness plus the time since it arrived (`clock`); while
// connected dtrustd refreshes it at least every max_staleness / 4, and when
// dtrustd is gone the copy keeps answering until that age passes the bound.
//
// Thread-safe. Verify takes a shared lock (std::shared_mutex, not
// absl::Mutex, whose deadlock detection in Debian's abseil would cost more
// than the check) that the feeding thread takes exclusively only to swap in a
// snapshot or apply one change. Does not own `clock`, which must outlive it.
class WatchVerifier : public Verifier {
 public:
  // Starts the feeding thread.
  WatchVerifier(std::unique_ptr<WatchSource> source, const Clock* clock,
                WatchVerifierOptions options = {});
  // Stops the thread (cancelling its stream) and waits for it.
  ~WatchVerifier() override;
  WatchVerifier(const WatchVerifier&) = delete;
  WatchVerifier& operator=(const WatchVerifier&) = delete;

  absl::StatusOr<VerifyAnswer> Verify(const VerifyQuery& query) override;

  // Waits up to `timeout` until Verify can answer (a complete snapshot and
  // dtrustd's freshness, serving, within the bound); DeadlineExceeded naming
  // why not.
  absl::Status WaitReady(absl::Duration timeout) override;

  // Epoch and version of the data answering now (0, 0 before a snapshot).
  struct Position {
    uint64_t epoch = 0;
    uint64_t version = 0;
  };
  Position position() const;

 private:
  class CopyDirectory;
  struct PendingSnapshot;

  void Run();
  // Reads one stream until it breaks or stopping; returns why it ended.
  // Sets `progressed` once an event was applied.
  absl::Status Follow(WatchStream& stream, bool* progressed);
  absl::Status Apply(const v1::WatchEvent& event, PendingSnapshot& pending);
  absl::Status ApplyChunk(const v1::WatchSnapshotChunk& chunk,
                          PendingSnapshot& pending);
  absl::Status ApplyChange(const v1::WatchChange& change);
  void ApplyFreshness(const v1::WatchFreshness& freshness);
  // ResourceExhausted when `entries` more would pass max_entries. Needs
  // mutex_ held and a copy.
  absl::Status CheckRoomFor(uint64_t entries) const;
  // Waits `delay` or until stopping; false when stopping.
  bool Backoff(absl::Duration delay);
  void SetDisconnected(const absl::Status& why);
  // Wakes WaitReady after the copy changed.
  void NotifyChanged();
  // Why Verify cannot answer now, or OK. Needs mutex_ held (shared).
  absl::Status CheckAnswerable() const;

  const std::unique_ptr<WatchSource> source_;
  // Set once a snapshot was swapped in: Verify no longer waits for one.
  std::atomic<bool> had_snapshot_{false};
  const Clock* const clock_;
  const WatchVerifierOptions options_;

  // The copy and its freshness: written by the feeding thread under an
  // exclusive lock, read under a shared one.
  mutable std::shared_mutex mutex_;
  std::unique_ptr<MirrorTables> tables_;  // Null before the first snapshot.
  Position position_;
  bool have_freshness_ = false;
  bool serving_ = false;
  std::string not_serving_reason_;
  absl::Duration snapshot_age_;
  absl::Duration max_staleness_;
  absl::Time freshness_at_;
  std::string last_error_;  // Why the stream last broke, for reasons.

  const std::unique_ptr<CopyDirectory> directory_;
  TrustService trust_service_;

  // Stopping and the current stream, for the destructor.
  std::mutex stop_mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  WatchStream* stream_ = nullptr;         // Guarded by stop_mutex_.
  std::condition_variable ready_signal_;  // With stop_mutex_: data changed.

  std::thread thread_;  // Last: started once everything above exists.
};

}  // namespace dtrust::lib

#endif  // DTRUST_CLIENT_LIB_WATCH_VERIFIER_H_
