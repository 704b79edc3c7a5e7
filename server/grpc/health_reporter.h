// Keeps gRPC's built-in health service (grpc.health.v1) in step with the
// directory monitor: SERVING exactly when DirectoryStatus::serving.
#ifndef DTRUST_SERVER_GRPC_HEALTH_REPORTER_H_
#define DTRUST_SERVER_GRPC_HEALTH_REPORTER_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/core/directory_status.h"

namespace dtrust {

// Sets the serving status of the whole server ("") and of
// "dtrust.v1.DirectTrust" from monitor->Status().serving: once in the
// constructor (so the server never reports SERVING before the monitor says
// so), then from a background thread every `interval`. Logs every change,
// with the directory URI and the last error.
//
// Usage: grpc::EnableDefaultHealthCheckService(true) before the
// grpc::ServerBuilder builds the server, then
// HealthReporter(server->GetHealthCheckService(), &monitor).
//
// Owns neither `health` (owned by the grpc::Server) nor `monitor`; both are
// non-null and must outlive the reporter. The destructor stops the thread and
// joins it, waiting at most for one monitor->Status() call in progress.
// Thread-compatible (no methods besides construction and destruction).
class HealthReporter {
 public:
  static constexpr absl::Duration kDefaultInterval = absl::Milliseconds(250);

  HealthReporter(grpc::HealthCheckServiceInterface* health,
                 const DirectoryMonitor* monitor,
                 absl::Duration interval = kDefaultInterval);
  HealthReporter(const HealthReporter&) = delete;
  HealthReporter& operator=(const HealthReporter&) = delete;
  ~HealthReporter();

 private:
  // Sets the health service to the monitor's serving status if it changed
  // (always on the first call), and logs the change.
  void Update();
  void Run();

  grpc::HealthCheckServiceInterface* const health_;
  const DirectoryMonitor* const monitor_;
  const absl::Duration interval_;
  // Only touched by Update(): first in the constructor, then by thread_.
  bool first_update_ = true;
  bool serving_ = false;

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: starts once everything else is set up.
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_HEALTH_REPORTER_H_
