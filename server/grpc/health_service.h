// dtrustd's grpc.health.v1 service, following the directory monitor:
// SERVING exactly when DirectoryStatus::serving.
//
// Not gRPC's built-in health service (grpc::EnableDefaultHealthCheckService):
// in gRPC 1.51 that one uses the callback API, which moves all of a server's
// I/O to callback threads and doubles dtrustd's CPU per unary call (measured:
// Verify 22.6 -> 47.5 us of server CPU); this one is an ordinary synchronous
// service.
#ifndef DTRUST_SERVER_GRPC_HEALTH_SERVICE_H_
#define DTRUST_SERVER_GRPC_HEALTH_SERVICE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/auth/authorizer.h"
#include "server/core/clock.h"
#include "server/core/directory_status.h"

namespace dtrust {

// How HealthService follows the monitor and how many Watch streams it keeps
// at once.
struct HealthOptions {
  // The time of DirectoryStatus::recheck_at (not owned; must outlive the
  // service).
  const Clock* clock = Clock::Real();
  // gRPC's sync API cannot notify a handler that its client went away, so
  // each waiting Watch wakes this often to ask: a Watch whose client is gone
  // (cancelled, past its deadline, or its connection dropped by keepalive
  // or max connection age) returns within this, freeing its thread.
  absl::Duration cancel_check = absl::Milliseconds(500);
  // Watch streams at once, across all connections; one more fails at once
  // with RESOURCE_EXHAUSTED. Each holds a gRPC thread (GrpcLimits::
  // max_threads must leave room for other calls) and wakes
  // 1/cancel_check times a second.
  int max_watches = 16;
};

// Answers for the whole server ("") and for "dtrust.v1.DirectTrust" from
// monitor->Status().serving, read once in the constructor (so it never says
// SERVING before the monitor does), then by a background thread whenever
// the monitor reports a change (DirectoryMonitor::Subscribe) and at the
// status's recheck_at (a timer armed for exactly that moment: the mirror's
// data ageing past --max-staleness). Nothing else wakes it: with nothing
// reported and nothing due it waits for a change or Shutdown(). Logs every
// change with the directory URI and the last error.
//
// Check: SERVING / NOT_SERVING; gRPC NOT_FOUND for any other service name.
// Watch: the status at once, then every change, until the client cancels,
// its deadline passes or Shutdown(); SERVICE_UNKNOWN for any other service
// name, and keeps watching.
//
// Usage: register on the grpc::ServerBuilder; call Shutdown() before
// grpc::Server::Shutdown, so the server need not wait its grace period for
// watchers.
//
// Thread-safe: Check and Watch run on any gRPC thread, Shutdown on any
// thread but the service's own. Does not own `monitor` (non-null; must stay
// valid until Shutdown() or the destructor returns). Must outlive the
// grpc::Server it is registered on. The destructor calls Shutdown().
class HealthService final : public grpc::health::v1::Health::Service {
 public:
  // Check and Watch need the reader role (`authorizer`, not owned,
  // non-null, must outlive it).
  HealthService(const DirectoryMonitor* monitor, const Authorizer* authorizer,
                const HealthOptions& options = {});
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;
  ~HealthService() override;

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  // Ends with UNAVAILABLE after Shutdown() (having sent NOT_SERVING), with
  // CANCELLED when the client is gone, with RESOURCE_EXHAUSTED at once when
  // options.max_watches others are watching.
  grpc::Status Watch(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>*
                         writer) override;

  // From now on NOT_SERVING for good: every Watch sends NOT_SERVING (unless it
  // just did) and returns, Check answers NOT_SERVING. Stops and joins the
  // thread, waiting at most for one monitor->Status() call in progress: the
  // monitor is not used once it returns. Idempotent.
  void Shutdown();

  // How often the background thread has woken (a change reported, a
  // recheck due), for tests: an idle service does not wake.
  int64_t wakeups() const;

 private:
  // What Check and Watch say about `service`.
  grpc::health::v1::HealthCheckResponse::ServingStatus StatusOf(
      const std::string& service) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads the monitor; records and logs its serving status if it changed
  // (always on the first call), and when to read it again.
  void Update();
  // Waits for a change, a due recheck or Shutdown(); Update()s.
  void Run();
  // Watch once admitted: sends each change until done.
  grpc::Status WatchChanges(
      grpc::ServerContext* context, const std::string& service,
      grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer);

  // OK if the caller may read the health status.
  grpc::Status Authorize(const grpc::ServerContext& context,
                         absl::string_view method) const;

  const DirectoryMonitor* const monitor_;
  const Authorizer* const authorizer_;
  const HealthOptions options_;
  // Only touched by Update(): first in the constructor, then by thread_.
  bool first_update_ = true;

  mutable absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  // The monitor reported a change not yet read.
  bool changed_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Time> recheck_at_ ABSL_GUARDED_BY(mu_);
  int64_t wakeups_ ABSL_GUARDED_BY(mu_) = 0;
  int watches_ ABSL_GUARDED_BY(mu_) = 0;
  int subscription_ = 0;  // Set in the constructor, ended by Shutdown().
  absl::Mutex join_mu_;   // Serializes Shutdown()'s join.
  // Last: starts once everything else is set up.
  std::thread thread_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_HEALTH_SERVICE_H_
