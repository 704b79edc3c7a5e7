#include "server/grpc/direct_trust_service.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/core/log.h"
#include "server/core/metrics.h"
#include "server/grpc/grant_conversion.h"
#include "server/grpc/peer_identity.h"
#include "server/grpc/proto_conversion.h"
#include "server/grpc/status_conversion.h"

namespace dtrust {
namespace {

// Sets `response`'s snapshot_age if the monitor has one.
template <typename Response>
void SetSnapshotAge(const DirectoryMonitor& monitor, Response* response) {
  if (std::optional<absl::Duration> age = monitor.SnapshotAge()) {
    *response->mutable_snapshot_age() = ToProto(*age);
  }
}

}  // namespace

absl::StatusOr<Authority> DirectTrustService::Authorize(
    const grpc::ServerContext& context, Role role,
    absl::string_view method) const {
  return authorizer_->Require(PeerIdentity(context), role, method);
}

grpc::Status DirectTrustService::Allow(grpc::ServerContext* context, Role role,
                                       absl::string_view method) {
  absl::StatusOr<Authority> authority = Authorize(*context, role, method);
  return authority.ok() ? grpc::Status::OK
                        : Failed(method, context, authority.status());
}

grpc::Status DirectTrustService::Failed(absl::string_view method,
                                        grpc::ServerContext* context,
                                        const absl::Status& status) {
  std::string suppressed;
  if (failure_lines_.Allow(&suppressed)) {
    // Bad input is the caller's problem, the rest is ours.
    const bool refused =
        absl::IsInvalidArgument(status) || absl::IsNotFound(status) ||
        absl::IsFailedPrecondition(status) ||
        absl::IsPermissionDenied(status) || absl::IsUnauthenticated(status);
    Log(refused ? LogLevel::kInfo : LogLevel::kWarning,
        absl::StrCat(method, " from ", PeerIdentity(*context).peer,
                     refused ? " refused: " : " failed: ", status.ToString(),
                     suppressed));
  }
  return ToGrpcStatus(status);
}

grpc::Status DirectTrustService::GetPublishChallenge(
    grpc::ServerContext* context, const v1::PublishChallengeRequest* request,
    v1::PublishChallenge* response) {
  if (grpc::Status allowed =
          Allow(context, Role::kPublisher, "GetPublishChallenge");
      !allowed.ok()) {
    return allowed;
  }
  absl::StatusOr<Sha256Digest> sha256 = FromProto(*request);
  if (!sha256.ok()) {
    return Failed("GetPublishChallenge", context, sha256.status());
  }
  absl::StatusOr<PossessionChallenge> challenge =
      trust_service_->PublishChallenge(request->server(), *sha256);
  if (!challenge.ok()) {
    return Failed("GetPublishChallenge", context, challenge.status());
  }
  *response = ToProto(*challenge);
  return grpc::Status::OK;
}

grpc::Status DirectTrustService::List(
    grpc::ServerContext* context, const v1::ListRequest* request,
    grpc::ServerWriter<v1::ServerEntry>* writer) {
  if (grpc::Status allowed = Allow(context, Role::kPublisher, "List");
      !allowed.ok()) {
    return allowed;
  }
  absl::StatusOr<std::vector<ServerRecord>> servers =
      trust_service_->List(FromProto(*request));
  if (!servers.ok()) return Failed("List", context, servers.status());
  for (const ServerRecord& server : *servers) {
    if (!writer->Write(ToProto(server, request->include_certificates()))) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    }
  }
  return grpc::Status::OK;
}

grpc::Status DirectTrustService::Watch(
    grpc::ServerContext* context, const v1::WatchRequest* request,
    grpc::ServerWriter<v1::WatchEvent>* writer) {
  if (grpc::Status allowed = Allow(context, Role::kReader, "Watch");
      !allowed.ok()) {
    return allowed;
  }
  if (watch_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "Watch needs dtrustd's in-memory mirror: start "
                        "dtrustd with --directory-sync other than none");
  }
  return watch_->Watch(context, request, writer);
}

grpc::Status DirectTrustService::Verify(grpc::ServerContext* context,
                                        const v1::VerifyRequest* request,
                                        v1::VerifyResponse* response) {
  if (grpc::Status allowed = Allow(context, Role::kReader, "Verify");
      !allowed.ok()) {
    return allowed;
  }
  absl::StatusOr<VerifyRequest> converted = FromProto(*request);
  if (!converted.ok()) return Failed("Verify", context, converted.status());
  absl::StatusOr<VerifyResult> result = trust_service_->Verify(*converted);
  if (!result.ok()) return Failed("Verify", context, result.status());
  const Verdict verdict = result->verdict;
  ProcessMetrics().CountVerdict(Protocol::kGrpc,
                                absl::AsciiStrToLower(VerdictName(verdict)));
  *response = ToProto(*std::move(result));
  SetSnapshotAge(*monitor_, response);
  const absl::Duration age =
      absl::Seconds(response->snapshot_age().seconds()) +
      absl::Nanoseconds(response->snapshot_age().nanos());
  std::string suppressed;
  if (verdict != Verdict::kTrusted && verdict_lines_.Allow(&suppressed)) {
    LogInfo("Verify from ", PeerIdentity(*context).peer, ": ",
            VerdictName(verdict), ": ", response->reason(),
            age > absl::ZeroDuration()
                ? absl::StrCat(" (from a directory snapshot ",
                               absl::FormatDuration(
                                   absl::Trunc(age, absl::Milliseconds(1))),
                               " old)")
                : "",
            suppressed);
  }
  return grpc::Status::OK;
}

grpc::Status DirectTrustService::ListDomainPolicies(
    grpc::ServerContext* context, const v1::ListDomainPoliciesRequest* request,
    v1::ListDomainPoliciesResponse* response) {
  if (grpc::Status allowed =
          Allow(context, Role::kPublisher, "ListDomainPolicies");
      !allowed.ok()) {
    return allowed;
  }
  absl::StatusOr<std::vector<DomainPolicy>> policies =
      trust_service_->ListDomainPolicies(request->domain());
  if (!policies.ok()) {
    return Failed("ListDomainPolicies", context, policies.status());
  }
  for (const DomainPolicy& policy : *policies) {
    *response->add_policies() = ToProto(policy);
  }
  SetSnapshotAge(*monitor_, response);
  return grpc::Status::OK;
}

grpc::Status DirectTrustService::ListClients(
    grpc::ServerContext* context, const v1::ListClientsRequest* /*request*/,
    v1::ListClientsResponse* response) {
  if (grpc::Status allowed = Allow(context, Role::kAdmin, "ListClients");
      !allowed.ok()) {
    return allowed;
  }
  absl::StatusOr<std::vector<Grant>> grants = grants_->List();
  if (!grants.ok()) return Failed("ListClients", context, grants.status());
  for (const Grant& grant : *grants) *response->add_grants() = ToProto(grant);
  return grpc::Status::OK;
}

grpc::Status DirectTrustService::GetHistory(grpc::ServerContext* context,
                                            const v1::HistoryRequest* request,
                                            v1::HistoryResponse* response) {
  if (grpc::Status allowed = Allow(context, Role::kAdmin, "GetHistory");
      !allowed.ok()) {
    return allowed;
  }
  absl::StatusOr<AuditQuery> query = FromProto(*request);
  if (!query.ok()) return Failed("GetHistory", context, query.status());
  bool truncated = false;
  absl::StatusOr<std::vector<AuditRecord>> records =
      auditor_->store()->Query(*query, &truncated);
  if (!records.ok()) return Failed("GetHistory", context, records.status());
  for (const AuditRecord& record : *records) {
    *response->add_events() = ToProto(record);
  }
  response->set_truncated(truncated);
  return grpc::Status::OK;
}

grpc::Status DirectTrustService::GetStatus(
    grpc::ServerContext* context, const v1::GetStatusRequest* /*request*/,
    v1::ServiceStatus* response) {
  if (grpc::Status allowed = Allow(context, Role::kReader, "GetStatus");
      !allowed.ok()) {
    return allowed;
  }
  *response = ToProto(monitor_->Status());
  return grpc::Status::OK;
}

grpc::Status DirectTrustService::Ping(grpc::ServerContext* context,
                                      const v1::PingRequest* /*request*/,
                                      v1::PingResponse* /*response*/) {
  if (grpc::Status allowed = Allow(context, Role::kReader, "Ping");
      !allowed.ok()) {
    return allowed;
  }
  return grpc::Status::OK;
}

}  // namespace dtrust
