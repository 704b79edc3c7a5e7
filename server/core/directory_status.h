// How fresh the directory data behind dtrustd's answers is, for health
// checks, `dtrust status` and the snapshot age every answer carries.
#ifndef DTRUST_SERVER_CORE_DIRECTORY_STATUS_H_
#define DTRUST_SERVER_CORE_DIRECTORY_STATUS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace dtrust {

// Where answers come from (dtrustd --directory-sync).
enum class SyncMode {
  kNone,               // No mirror: every query searches the directory.
  kRefreshAndPersist,  // A mirror following the directory (RFC 4533).
  kPoll,               // A mirror reloaded periodically.
};

// "none", "refresh-and-persist", "poll" (the dtrustd flag values).
absl::string_view SyncModeName(SyncMode mode);

struct DirectoryStatus {
  SyncMode mode = SyncMode::kNone;
  // Whether queries are answered: false before the mirror's first complete
  // load and once its data is older than max_staleness.
  bool serving = false;
  // Whether the session with the directory is up (kNone: whether the last
  // directory operation succeeded).
  bool connected = false;
  std::string uri{};  // Of the current or last connection.
  // Zero while live; time since last known current otherwise; nullopt for
  // kNone and before the first load.
  std::optional<absl::Duration> snapshot_age{};
  absl::Duration max_staleness = absl::ZeroDuration();
  std::optional<absl::Time> last_current{};
  std::string last_error{};  // Empty if none since the last connect.
  uint64_t servers = 0;
  uint64_t pins = 0;
  uint64_t domain_policies = 0;
  uint64_t index_bytes = 0;
  std::optional<absl::Duration> initial_load{};
  absl::Time started = absl::InfinitePast();
  // When Status() may say otherwise though nothing was reported: the
  // mirror's data ages past max_staleness then, the direct probe's result
  // expires; nullopt if nothing is due with time alone (live, not loaded).
  std::optional<absl::Time> recheck_at{};
};

// Reports on the directory data dtrustd answers from. Implementations are
// thread-safe; both calls are cheap enough to make once per answer
// (SnapshotAge) or per status request (Status).
class DirectoryMonitor {
 public:
  // Called when the status changed; must be quick and take no lock a
  // monitor's caller may hold (set a flag, signal a waiter).
  using Listener = std::function<void()>;

  virtual ~DirectoryMonitor() = default;

  virtual DirectoryStatus Status() const = 0;
  // DirectoryStatus::snapshot_age alone.
  virtual std::optional<absl::Duration> SnapshotAge() const = 0;

  // Calls `listener` whenever Status().serving or recheck_at changed, on the
  // thread that changed it, with none of the monitor's locks held. Returns
  // an id for Unsubscribe.
  virtual int Subscribe(Listener listener) const = 0;
  // Once this returns, the listener is not running and never called again.
  virtual void Unsubscribe(int id) const = 0;
};

// Whether `monitor` serves within `timeout`: reads Status() now and at each
// change it reports (no poll) until it serves or the timeout passes. A
// Status() call in progress at the deadline (a probe, bounded by the LDAP
// timeout) is waited for.
bool AwaitServing(const DirectoryMonitor& monitor, absl::Duration timeout);

// The listeners of a DirectoryMonitor, for its implementations.
// Thread-safe; Notify calls the listeners under this object's lock, so a
// listener must not Subscribe or Unsubscribe.
class StatusListeners {
 public:
  int Add(DirectoryMonitor::Listener listener);
  void Remove(int id);
  void Notify() const;

 private:
  mutable absl::Mutex mu_;
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<std::pair<int, DirectoryMonitor::Listener>> listeners_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_DIRECTORY_STATUS_H_
