#include "server/grpc/health_reporter.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "server/core/log.h"

namespace dtrust {

HealthReporter::HealthReporter(grpc::HealthCheckServiceInterface* health,
                               const DirectoryMonitor* monitor,
                               absl::Duration interval)
    : health_(health), monitor_(monitor), interval_(interval) {
  Update();
  thread_ = std::thread([this] { Run(); });
}

HealthReporter::~HealthReporter() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void HealthReporter::Update() {
  const DirectoryStatus status = monitor_->Status();
  if (!first_update_ && status.serving == serving_) return;
  first_update_ = false;
  serving_ = status.serving;
  health_->SetServingStatus("", serving_);
  health_->SetServingStatus(v1::DirectTrust::service_full_name(), serving_);
  const std::string where =
      absl::StrCat("sync mode ", SyncModeName(status.mode), ", directory ",
                   status.uri.empty() ? "-" : status.uri,
                   status.connected ? " connected" : " not connected");
  if (serving_) {
    LogInfo("health: SERVING (", where, ")");
  } else {
    LogWarning("health: NOT_SERVING (", where,
               status.last_error.empty() ? "" : ": ", status.last_error, ")");
  }
}

void HealthReporter::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_)) return;
    }
    Update();
  }
}

}  // namespace dtrust
