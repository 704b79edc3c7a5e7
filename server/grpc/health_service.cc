#include "server/grpc/health_service.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "server/core/log.h"
#include "server/grpc/peer_identity.h"
#include "server/grpc/status_conversion.h"

namespace dtrust {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

// The services this server reports on: the server as a whole ("") and
// DirectTrust.
bool IsKnown(const std::string& service) {
  return service.empty() || service == v1::DirectTrust::service_full_name();
}

}  // namespace

HealthService::HealthService(const DirectoryMonitor* monitor,
                             const Authorizer* authorizer,
                             const HealthOptions& options)
    : monitor_(monitor), authorizer_(authorizer), options_(options) {
  subscription_ = monitor_->Subscribe([this] {
    absl::MutexLock lock(&mu_);
    changed_ = true;
  });
  Update();
  thread_ = std::thread([this] { Run(); });
}

HealthService::~HealthService() { Shutdown(); }

void HealthService::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
  }
  absl::MutexLock lock(&join_mu_);
  if (thread_.joinable()) {
    thread_.join();
    monitor_->Unsubscribe(subscription_);
  }
}

int64_t HealthService::wakeups() const {
  absl::MutexLock lock(&mu_);
  return wakeups_;
}

grpc::Status HealthService::Authorize(const grpc::ServerContext& context,
                                      absl::string_view method) const {
  return ToGrpcStatus(
      authorizer_->Require(PeerIdentity(context), Role::kReader, method)
          .status());
}

grpc::Status HealthService::Check(grpc::ServerContext* context,
                                  const HealthCheckRequest* request,
                                  HealthCheckResponse* response) {
  if (grpc::Status allowed = Authorize(*context, "Health/Check");
      !allowed.ok()) {
    return allowed;
  }
  if (!IsKnown(request->service())) {
    return grpc::Status(
        grpc::StatusCode::NOT_FOUND,
        absl::StrCat("no health status for service \"", request->service(),
                     "\"; known: \"\" (the server) and \"",
                     v1::DirectTrust::service_full_name(), "\""));
  }
  absl::MutexLock lock(&mu_);
  response->set_status(StatusOf(request->service()));
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(
    grpc::ServerContext* context, const HealthCheckRequest* request,
    grpc::ServerWriter<HealthCheckResponse>* writer) {
  if (grpc::Status allowed = Authorize(*context, "Health/Watch");
      !allowed.ok()) {
    return allowed;
  }
  {
    absl::MutexLock lock(&mu_);
    if (watches_ >= options_.max_watches) {
      return grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("health watch: ", options_.max_watches,
                       " watches already (the limit); use Health/Check"));
    }
    ++watches_;
  }
  grpc::Status done = WatchChanges(context, request->service(), writer);
  absl::MutexLock lock(&mu_);
  --watches_;
  return done;
}

grpc::Status HealthService::WatchChanges(
    grpc::ServerContext* context, const std::string& service,
    grpc::ServerWriter<HealthCheckResponse>* writer) {
  std::optional<HealthCheckResponse::ServingStatus> sent;
  while (!context->IsCancelled()) {
    HealthCheckResponse::ServingStatus status;
    bool shutdown;
    {
      absl::MutexLock lock(&mu_);
      if (sent.has_value()) {
        // Wakes on a change or Shutdown(); times out to notice a cancelled
        // client (gRPC does not signal mu_ for that).
        const auto changed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return shutdown_ || StatusOf(service) != *sent;
        };
        mu_.AwaitWithTimeout(absl::Condition(&changed), options_.cancel_check);
      }
      shutdown = shutdown_;
      status = shutdown ? HealthCheckResponse::NOT_SERVING : StatusOf(service);
    }
    if (status != sent) {
      HealthCheckResponse response;
      response.set_status(status);
      if (!writer->Write(response)) {
        return grpc::Status(grpc::StatusCode::CANCELLED,
                            "health watch: the client is gone");
      }
      sent = status;
    }
    if (shutdown) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "health watch: dtrustd is shutting down");
    }
  }
  return grpc::Status(grpc::StatusCode::CANCELLED,
                      "health watch: cancelled by the client");
}

HealthCheckResponse::ServingStatus HealthService::StatusOf(
    const std::string& service) const {
  if (!IsKnown(service)) return HealthCheckResponse::SERVICE_UNKNOWN;
  return serving_ && !shutdown_ ? HealthCheckResponse::SERVING
                                : HealthCheckResponse::NOT_SERVING;
}

void HealthService::Update() {
  const DirectoryStatus status = monitor_->Status();
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    recheck_at_ = status.recheck_at;
    if (!first_update_ && status.serving == serving_) return;
    serving_ = status.serving;
  }
  first_update_ = false;
  const std::string where =
      absl::StrCat("sync mode ", SyncModeName(status.mode), ", directory ",
                   status.uri.empty() ? "-" : status.uri,
                   status.connected ? " connected" : " not connected");
  if (status.serving) {
    LogInfo("health: SERVING (", where, ")");
  } else {
    LogWarning("health: NOT_SERVING (", where,
               status.last_error.empty() ? "" : ": ", status.last_error, ")");
  }
}

void HealthService::Run() {
  // A recheck due now (or already past) waits this long, so that a monitor
  // reporting a recheck_at it has not reached yet cannot make this spin.
  constexpr absl::Duration kLeastWait = absl::Milliseconds(1);
  const auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return shutdown_ || changed_;
  };
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (recheck_at_) {
        mu_.AwaitWithTimeout(
            absl::Condition(&woken),
            std::max(*recheck_at_ - options_.clock->Now(), kLeastWait));
      } else {
        mu_.Await(absl::Condition(&woken));
      }
      if (shutdown_) return;
      changed_ = false;
      ++wakeups_;
    }
    Update();
  }
}

}  // namespace dtrust
