#include "server/grpc/direct_trust_service.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/core/log.h"
#include "server/grpc/proto_conversion.h"
#include "server/grpc/status_conversion.h"

namespace dtrust {
namespace {

absl::string_view OutcomeText(PublishResult::Outcome outcome) {
  switch (outcome) {
    case PublishResult::Outcome::kPublished:
      return "published";
    case PublishResult::Outcome::kAlreadyPublished:
      return "already published";
    case PublishResult::Outcome::kPinUpdated:
      return "pin updated";
  }
  return "";
}

// Sets `response`'s snapshot_age if the monitor has one.
template <typename Response>
void SetSnapshotAge(const DirectoryMonitor& monitor, Response* response) {
  if (std::optional<absl::Duration> age = monitor.SnapshotAge()) {
    *response->mutable_snapshot_age() = ToProto(*age);
  }
}

}  // namespace

grpc::Status DirectTrustService::Failed(absl::string_view method,
                                        grpc::ServerContext* context,
                                        const absl::Status& status) {
  std::string suppressed;
  if (failure_lines_.Allow(&suppressed)) {
    // Bad input is the caller's problem, the rest is ours.
    const bool refused = absl::IsInvalidArgument(status) ||
                         absl::IsNotFound(status) ||
                         absl::IsFailedPrecondition(status);
    Log(refused ? LogLevel::kInfo : LogLevel::kWarning,
        absl::StrCat(method, " from ", context->peer(),
                     refused ? " refused: " : " failed: ", status.ToString(),
                     suppressed));
  }
  return ToGrpcStatus(status);
}

grpc::Status DirectTrustService::Publish(grpc::ServerContext* context,
                                         const v1::PublishRequest* request,
                                         v1::PublishResponse* response) {
  absl::StatusOr<PublishRequest> converted = FromProto(*request);
  if (!converted.ok()) return Failed("Publish", context, converted.status());
  converted->publisher = context->peer();
  absl::StatusOr<PublishResult> result = trust_service_->Publish(*converted);
  if (!result.ok()) return Failed("Publish", context, result.status());
  LogInfo("Publish from ", context->peer(), ": ", OutcomeText(result->outcome),
          " sha256 ", result->pin.cert_sha256.ToColonHex(), " (",
          PinKindName(result->pin.kind), " pin, ",
          PinProvenanceName(result->pin.provenance), ") for ",
          result->server.name,
          result->domains_added.empty()
              ? ""
              : absl::StrCat(", domains added: ",
                             absl::StrJoin(result->domains_added, ", ")));
  *response = ToProto(*result);
  return grpc::Status::OK;
}

grpc::Status DirectTrustService::GetPublishChallenge(
    grpc::ServerContext* context, const v1::PublishChallengeRequest* request,
    v1::PublishChallenge* response) {
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

grpc::Status DirectTrustService::Unpublish(grpc::ServerContext* context,
                                           const v1::UnpublishRequest* request,
                                           v1::UnpublishResponse* response) {
  absl::StatusOr<UnpublishRequest> converted = FromProto(*request);
  if (!converted.ok()) return Failed("Unpublish", context, converted.status());
  absl::StatusOr<UnpublishResult> result =
      trust_service_->Unpublish(*converted);
  if (!result.ok()) return Failed("Unpublish", context, result.status());
  LogInfo("Unpublish from ", context->peer(), ": sha256 ",
          result->cert_sha256.ToColonHex(), " removed from ",
          absl::StrJoin(result->servers, ", "));
  *response = ToProto(*result);
  return grpc::Status::OK;
}

grpc::Status DirectTrustService::List(
    grpc::ServerContext* context, const v1::ListRequest* request,
    grpc::ServerWriter<v1::ServerEntry>* writer) {
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

grpc::Status DirectTrustService::Verify(grpc::ServerContext* context,
                                        const v1::VerifyRequest* request,
                                        v1::VerifyResponse* response) {
  absl::StatusOr<VerifyRequest> converted = FromProto(*request);
  if (!converted.ok()) return Failed("Verify", context, converted.status());
  absl::StatusOr<VerifyResult> result = trust_service_->Verify(*converted);
  if (!result.ok()) return Failed("Verify", context, result.status());
  const Verdict verdict = result->verdict;
  *response = ToProto(*std::move(result));
  SetSnapshotAge(*monitor_, response);
  const absl::Duration age =
      absl::Seconds(response->snapshot_age().seconds()) +
      absl::Nanoseconds(response->snapshot_age().nanos());
  std::string suppressed;
  if (verdict != Verdict::kTrusted && verdict_lines_.Allow(&suppressed)) {
    LogInfo("Verify from ", context->peer(), ": ", VerdictName(verdict), ": ",
            response->reason(),
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

grpc::Status DirectTrustService::SetDomainPolicy(
    grpc::ServerContext* context, const v1::SetDomainPolicyRequest* request,
    v1::DomainPolicy* response) {
  absl::StatusOr<DomainPolicyChange> change = FromProto(*request);
  if (!change.ok()) return Failed("SetDomainPolicy", context, change.status());
  absl::StatusOr<DomainPolicy> policy =
      trust_service_->SetDomainPolicy(*change);
  if (!policy.ok()) return Failed("SetDomainPolicy", context, policy.status());
  LogInfo("SetDomainPolicy from ", context->peer(), ": ", policy->domain,
          " send ", SecureModeName(policy->send), ", receive ",
          SecureModeName(policy->receive));
  *response = ToProto(*policy);
  return grpc::Status::OK;
}

grpc::Status DirectTrustService::ListDomainPolicies(
    grpc::ServerContext* context, const v1::ListDomainPoliciesRequest* request,
    v1::ListDomainPoliciesResponse* response) {
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

grpc::Status DirectTrustService::GetStatus(
    grpc::ServerContext* /*context*/, const v1::GetStatusRequest* /*request*/,
    v1::ServiceStatus* response) {
  *response = ToProto(monitor_->Status());
  return grpc::Status::OK;
}

grpc::Status DirectTrustService::Ping(grpc::ServerContext* /*context*/,
                                      const v1::PingRequest* /*request*/,
                                      v1::PingResponse* /*response*/) {
  return grpc::Status::OK;
}

}  // namespace dtrust
