// DirectTrust.Watch (issue 14 §2, docs/watch.md): dtrustd's mirror pushed
// to a client's in-process copy as a snapshot, then the changes, with the
// mirror's freshness.
#ifndef DTRUST_SERVER_GRPC_WATCH_SERVICE_H_
#define DTRUST_SERVER_GRPC_WATCH_SERVICE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "server/mirror/mirror.h"

namespace dtrust {

struct WatchOptions {
  // Streams at once (--watch-max-watchers); one more is RESOURCE_EXHAUSTED.
  // Each holds a gRPC thread while it lasts.
  int max_watchers = 16;
  // Bound of one snapshot chunk (--watch-max-message-bytes), under gRPC's
  // 4 MiB message limit. A single server larger than this still goes, alone.
  size_t max_message_bytes = 1 << 20;
  // A message not taken by the client within this (--watch-send-deadline)
  // cancels its stream: a client that stops reading costs no more than
  // gRPC's flow-control window.
  absl::Duration send_deadline = absl::Seconds(5);
  // gRPC's sync API does not wake a handler whose client went away: each
  // idle stream checks this often (as HealthService does).
  absl::Duration cancel_check = absl::Milliseconds(500);
  // Changes read from the log and sent per pass; bounds a watcher's memory.
  size_t max_changes_per_pass = 256;
};

// One stream's end, behind an interface so that tests can fake it.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // Sends `event`; false when the stream is gone (cancelled, client left).
  // May block while the client does not read.
  virtual bool Write(const v1::WatchEvent& event) = 0;
  virtual bool IsCancelled() const = 0;
  // Makes a blocked Write return false; callable from any thread while the
  // stream is being served.
  virtual void TryCancel() = 0;
};

// Serves Watch streams from `mirror`:
// - a position that the mirror's change log still covers (same epoch, no
//   change dropped since): the changes after it;
// - otherwise ((0, 0), another epoch, too old): a snapshot - the log's
//   position read first, then the servers and domain policies in chunks
//   of at most max_message_bytes - then the changes since that position.
//   Every change carries the value the index has when it is sent (or a
//   removal), so a change the snapshot already holds is harmless.
// - WatchFreshness right after the snapshot or resume, on each
//   notification of the mirror as a DirectoryMonitor and at least every
//   max_staleness / 4.
// A stream ends with UNAVAILABLE on Shutdown() (at once: a blocked write is
// cancelled), DEADLINE_EXCEEDED when a write took longer than
// send_deadline, CANCELLED when the client is gone. Memory per stream is
// bounded (max_changes_per_pass changes, one chunk) whatever the publish
// rate: a watcher pulls from the mirror's shared, bounded change log and
// takes a new snapshot once it falls behind it.
//
// Authorization is the caller's (DirectTrustService: reader role).
// Thread-safe. Does not own `mirror` (non-null, must outlive it). The
// destructor calls Shutdown().
class WatchService {
 public:
  WatchService(Mirror* mirror, const WatchOptions& options);
  WatchService(const WatchService&) = delete;
  WatchService& operator=(const WatchService&) = delete;
  ~WatchService();

  // Serves one stream until it ends (see the class comment); OK never.
  absl::Status Serve(const v1::WatchRequest& request, WatchStream* stream);

  // Serve() over a gRPC stream, with the status converted.
  grpc::Status Watch(grpc::ServerContext* context,
                     const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::WatchEvent>* writer);

  // Ends every stream (UNAVAILABLE) and refuses new ones; stops the
  // watchdog. Idempotent.
  void Shutdown();

 private:
  struct Watcher {
    WatchStream* stream = nullptr;
    std::optional<absl::Time> writing_since;  // A Write in progress.
    bool timed_out = false;
  };
  class Session;

  // Registers a stream; RESOURCE_EXHAUSTED past max_watchers,
  // UNAVAILABLE after Shutdown.
  absl::Status Admit(WatchStream* stream, int* id);
  void Leave(int id);
  // A Write of watcher `id` starts or ends; false: it timed out.
  void WriteStarts(int id);
  bool WriteEnds(int id);
  // Cancels writes past send_deadline, until Shutdown.
  void RunWatchdog();

  Mirror* const mirror_;
  const WatchOptions options_;
  int change_subscription_ = 0;
  int monitor_subscription_ = 0;

  mutable absl::Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  // Bumped by each change appended and each new epoch.
  uint64_t change_generation_ ABSL_GUARDED_BY(mu_) = 0;
  // Bumped by each notification of the mirror's freshness.
  uint64_t freshness_generation_ ABSL_GUARDED_BY(mu_) = 0;
  int next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  absl::Mutex join_mu_;  // Serializes Shutdown()'s join.
  std::thread watchdog_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_WATCH_SERVICE_H_
