// A Directory connected on first use, so that dtrustd can start (and answer
// from its mirror, or say it cannot) while its directory is unreachable.
#ifndef DTRUST_SERVER_CORE_LAZY_DIRECTORY_H_
#define DTRUST_SERVER_CORE_LAZY_DIRECTORY_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
class LazyDirectory : public Directory {
 public:
  using Connector = std::function<absl::StatusOr<std::unique_ptr<Directory>>()>;

  LazyDirectory(Connector connect, const Clock* clock,
                absl::Duration retry_interval)
      : connect_(std::move(connect)),
        clock_(clock),
        retry_interval_(retry_interval) {}

  // The connected Directory, connecting now if due; Unavailable otherwise.
  absl::StatusOr<Directory*> Get();

  absl::StatusOr<std::vector<ServerRecord>> FindByDigest(
      const Sha256Digest* cert_sha256,
      const Sha256Digest* spki_sha256) override;
  absl::StatusOr<std::optional<ServerRecord>> GetServer(
      absl::string_view name) override;
  absl::StatusOr<std::vector<ServerRecord>> ListServers(
      const ServerFilter& filter) override;
  absl::StatusOr<std::vector<ServerRecord>> FindServers(
      const ServerFilter& filter) override;
  absl::Status CreateServer(absl::string_view name,
                            const std::vector<std::string>& domains) override;
  absl::Status AddDomains(absl::string_view server,
                          const std::vector<std::string>& domains) override;
  absl::Status AddPin(absl::string_view server, const PinRecord& pin) override;
  absl::Status UpdatePin(absl::string_view server,
                         const PinRecord& pin) override;
  absl::Status RemovePin(absl::string_view server,
                         const Sha256Digest& cert_sha256) override;
  absl::Status RemoveServer(absl::string_view name) override;
  absl::StatusOr<std::vector<DomainPolicy>> ListDomainPolicies() override;
  absl::StatusOr<std::optional<DomainPolicy>> GetDomainPolicy(
      absl::string_view domain) override;
  absl::Status PutDomainPolicy(const DomainPolicy& policy) override;
  absl::Status RemoveDomainPolicy(absl::string_view domain) override;

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
