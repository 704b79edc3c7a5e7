// DirectTrustService's writes: each is authorized, then audited (one record
// per request, whatever its outcome).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/auth/audit_text.h"
#include "server/core/dns_name.h"
#include "server/core/log.h"
#include "server/grpc/direct_trust_service.h"
#include "server/grpc/grant_conversion.h"
#include "server/grpc/peer_identity.h"
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

// A name from a request for the record: normalized if it is a valid DNS
// name, escaped otherwise.
std::string AuditName(absl::string_view name) {
  absl::StatusOr<std::string> normalized = NormalizeDnsName(name, "name");
  return normalized.ok() ? *normalized : AuditText(name, 253);
}

template <typename Names>
std::vector<std::string> AuditNames(const Names& names) {
  std::vector<std::string> out;
  for (const std::string& name : names) out.push_back(AuditName(name));
  return out;
}

// "refused: PERMISSION_DENIED: ...", "rejected: ..." (bad input) or
// "failed: ..." (ours or the directory's).
std::string OutcomeOf(const absl::Status& status) {
  const bool refused =
      absl::IsPermissionDenied(status) || absl::IsUnauthenticated(status);
  const bool rejected =
      absl::IsInvalidArgument(status) || absl::IsNotFound(status) ||
      absl::IsFailedPrecondition(status) || absl::IsAlreadyExists(status);
  return absl::StrCat(refused    ? "refused: "
                      : rejected ? "rejected: "
                                 : "failed: ",
                      AuditText(status.ToString(), 1024));
}

// A publisher limited to scopes names the server, which must be in one.
absl::Status CheckUnpublishScopes(const Authority& authority,
                                  const UnpublishRequest& request) {
  if (authority.role == Role::kAdmin || authority.scopes.empty()) {
    return absl::OkStatus();
  }
  if (request.server.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        authority.who,
        " is limited to scopes: name the server to unpublish from (--server)"));
  }
  return Authorizer::CheckScopes(authority, request.server, {});
}

std::string RequestedDigest(const v1::PublishRequest& request) {
  return absl::StrCat("sha256 ",
                      Sha256Digest::Of(request.certificate_der()).ToColonHex());
}

}  // namespace

AuditRecord DirectTrustService::StartAudit(
    const grpc::ServerContext& context, absl::string_view action,
    const absl::StatusOr<Authority>& authority) const {
  const Identity identity = PeerIdentity(context);
  return AuditRecord{.actor = authority.ok() ? authority->who
                                             : authorizer_->Describe(identity),
                     .from = identity.peer,
                     .action = std::string(action)};
}

grpc::Status DirectTrustService::Finish(AuditRecord record,
                                        const absl::Status& status,
                                        absl::string_view ok_outcome) {
  record.outcome =
      status.ok() ? absl::StrCat("ok: ", ok_outcome) : OutcomeOf(status);
  auditor_->Record(std::move(record));
  return ToGrpcStatus(status);
}

grpc::Status DirectTrustService::Publish(grpc::ServerContext* context,
                                         const v1::PublishRequest* request,
                                         v1::PublishResponse* response) {
  absl::StatusOr<Authority> authority =
      Authorize(*context, Role::kPublisher, "Publish");
  AuditRecord audit = StartAudit(*context, "Publish", authority);
  audit.servers = {AuditName(request->server())};
  audit.domains = AuditNames(request->domains());
  audit.detail = RequestedDigest(*request);
  if (!authority.ok()) return Finish(std::move(audit), authority.status());
  absl::StatusOr<PublishRequest> converted = FromProto(*request);
  absl::Status allowed = converted.status();
  if (allowed.ok()) {
    allowed = Authorizer::CheckScopes(*authority, converted->server,
                                      converted->domains);
  }
  if (!allowed.ok()) return Finish(std::move(audit), allowed);
  converted->publisher = authority->who;
  absl::StatusOr<PublishResult> result = trust_service_->Publish(*converted);
  if (!result.ok()) return Finish(std::move(audit), result.status());
  audit.detail = absl::StrCat(
      result->previous
          ? PinText(*result->previous)
          : (result->outcome == PublishResult::Outcome::kAlreadyPublished
                 ? PinText(result->pin)
                 : "not published"),
      " -> ", PinText(result->pin),
      result->domains_added.empty()
          ? ""
          : absl::StrCat("; domains added: ",
                         absl::StrJoin(result->domains_added, ", ")));
  *response = ToProto(*result);
  return Finish(std::move(audit), absl::OkStatus(),
                std::string(OutcomeText(result->outcome)));
}

grpc::Status DirectTrustService::Unpublish(grpc::ServerContext* context,
                                           const v1::UnpublishRequest* request,
                                           v1::UnpublishResponse* response) {
  absl::StatusOr<Authority> authority =
      Authorize(*context, Role::kPublisher, "Unpublish");
  AuditRecord audit = StartAudit(*context, "Unpublish", authority);
  if (!request->server().empty())
    audit.servers = {AuditName(request->server())};
  absl::StatusOr<UnpublishRequest> converted = FromProto(*request);
  if (converted.ok()) {
    audit.detail = absl::StrCat(
        "sha256 ",
        (converted->cert_sha256 ? *converted->cert_sha256
                                : Sha256Digest::Of(converted->certificate_der))
            .ToColonHex());
  }
  absl::Status allowed =
      !authority.ok() ? authority.status() : converted.status();
  if (allowed.ok()) allowed = CheckUnpublishScopes(*authority, *converted);
  if (!allowed.ok()) return Finish(std::move(audit), allowed);
  absl::StatusOr<UnpublishResult> result =
      trust_service_->Unpublish(*converted);
  if (!result.ok()) return Finish(std::move(audit), result.status());
  audit.servers = result->servers;
  audit.detail = absl::StrCat(
      "sha256 ", result->cert_sha256.ToColonHex(), " removed from ",
      absl::StrJoin(result->servers, ", "),
      result->servers_removed.empty()
          ? ""
          : absl::StrCat("; server entries removed: ",
                         absl::StrJoin(result->servers_removed, ", ")));
  *response = ToProto(*result);
  return Finish(std::move(audit), absl::OkStatus(), "unpublished");
}

grpc::Status DirectTrustService::SetDomainPolicy(
    grpc::ServerContext* context, const v1::SetDomainPolicyRequest* request,
    v1::DomainPolicy* response) {
  absl::StatusOr<Authority> authority =
      Authorize(*context, Role::kAdmin, "SetDomainPolicy");
  AuditRecord audit = StartAudit(*context, "SetDomainPolicy", authority);
  audit.domains = {AuditName(request->domain())};
  absl::StatusOr<DomainPolicyChange> change = FromProto(*request);
  absl::Status allowed = !authority.ok() ? authority.status() : change.status();
  if (!allowed.ok()) return Finish(std::move(audit), allowed);
  absl::StatusOr<std::vector<DomainPolicy>> before =
      trust_service_->ListDomainPolicies(audit.domains.front());
  absl::StatusOr<DomainPolicy> policy =
      trust_service_->SetDomainPolicy(*change);
  if (!policy.ok()) return Finish(std::move(audit), policy.status());
  DomainPolicy previous{.domain = policy->domain};
  if (before.ok() && !before->empty()) previous = before->front();
  audit.detail = absl::StrCat(DomainPolicyText(previous), " -> ",
                              DomainPolicyText(*policy));
  *response = ToProto(*policy);
  return Finish(std::move(audit), absl::OkStatus(), "domain policy set");
}

std::optional<Grant> DirectTrustService::CurrentGrant(
    const GrantSubject& subject) {
  absl::StatusOr<std::vector<Grant>> grants = grants_->List();
  if (!grants.ok()) return std::nullopt;
  for (const Grant& grant : *grants) {
    if (grant.subject == subject) return grant;
  }
  return std::nullopt;
}

grpc::Status DirectTrustService::GrantClient(
    grpc::ServerContext* context, const v1::GrantClientRequest* request,
    v1::ClientGrant* response) {
  absl::StatusOr<Authority> authority =
      Authorize(*context, Role::kAdmin, "GrantClient");
  AuditRecord audit = StartAudit(*context, "GrantClient", authority);
  audit.domains = AuditNames(request->scopes());
  absl::StatusOr<Grant> grant = FromProto(*request);
  if (grant.ok()) audit.detail = grant->subject.Describe();
  absl::Status allowed = !authority.ok() ? authority.status() : grant.status();
  if (!allowed.ok()) return Finish(std::move(audit), allowed);
  const std::optional<Grant> before = CurrentGrant(grant->subject);
  grant = grants_->Put(*std::move(grant), authority->who);
  if (!grant.ok()) return Finish(std::move(audit), grant.status());
  audit.detail = absl::StrCat(grant->subject.Describe(), ": ",
                              GrantText(before), " -> ", GrantText(*grant));
  *response = ToProto(*grant);
  return Finish(std::move(audit), absl::OkStatus(), "granted");
}

grpc::Status DirectTrustService::RevokeClient(
    grpc::ServerContext* context, const v1::RevokeClientRequest* request,
    v1::ClientGrant* response) {
  absl::StatusOr<Authority> authority =
      Authorize(*context, Role::kAdmin, "RevokeClient");
  AuditRecord audit = StartAudit(*context, "RevokeClient", authority);
  absl::StatusOr<GrantSubject> subject = FromProto(request->subject());
  if (subject.ok()) audit.detail = subject->Describe();
  absl::Status allowed =
      !authority.ok() ? authority.status() : subject.status();
  if (!allowed.ok()) return Finish(std::move(audit), allowed);
  absl::StatusOr<Grant> revoked = grants_->Revoke(*subject);
  if (!revoked.ok()) return Finish(std::move(audit), revoked.status());
  audit.domains = revoked->scopes;
  audit.detail = absl::StrCat(revoked->subject.Describe(), ": ",
                              GrantText(*revoked), " -> none");
  *response = ToProto(*revoked);
  return Finish(std::move(audit), absl::OkStatus(), "revoked");
}

}  // namespace dtrust
