// A Directory connected on first use, so that dtrustd can start (and answer
// from its mirror, or say it cannot) while its directory is unreachable.
#ifndef DTRUST_SERVER_CORE_LAZY_DIRECTORY_H_
#define DTRUST_SERVER_CORE_LAZY_DIRECTORY_H_

#include <atomic>
#include <functional>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "server/core/clock.h"
#include "server/core/directory.h"

namespace dtrust {

// Until `connect` has succeeded, a call first tries it - at most once per
// `retry_interval`, and never two at a time: meanwhile other calls get
// Unavailable at once (with the last connect error) rather than waiting.
// After that every call goes straight to the connected Directory.
//
// Thread-safe if `connect` and the Directory it makes are. Does not own
// `clock`, which must outlive it.
class LazyDirectory : public DirectoryWrapper {
 public:
  using Connector = std::function<absl::StatusOr<std::unique_ptr<Directory>>()>;

  LazyDirectory(Connector connect, const Clock* clock,
                absl::Duration retry_interval)
      : DirectoryWrapper(nullptr),
        connect_(std::move(connect)),
        clock_(clock),
        retry_interval_(retry_interval) {}

  // The connected Directory, connecting now if due; Unavailable otherwise.
  absl::StatusOr<Directory*> Get();

 protected:
  absl::StatusOr<Directory*> Target() override { return Get(); }

 private:
  const Connector connect_;
  const Clock* const clock_;
  const absl::Duration retry_interval_;
  std::atomic<Directory*> connected_{nullptr};

  absl::Mutex mutex_;
  std::unique_ptr<Directory> directory_ ABSL_GUARDED_BY(mutex_);
  bool connecting_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Time last_attempt_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
  absl::Status last_error_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_LAZY_DIRECTORY_H_
