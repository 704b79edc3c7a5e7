#include "server/grpc/grant_conversion.h"

#include "server/base/status_macros.h"
#include "server/core/dns_name.h"

namespace dtrust {

absl::StatusOr<GrantSubject> FromProto(const v1::ClientSubject& subject) {
  const int given = !subject.cert_sha256().empty() +
                    !subject.unix_user().empty() +
                    !subject.unix_group().empty();
  if (given != 1) {
    return absl::InvalidArgumentError(
        "subject: give exactly one of cert_sha256, unix_user, unix_group");
  }
  GrantSubject result;
  if (!subject.cert_sha256().empty()) {
    DTRUST_ASSIGN_OR_RETURN(
        result.cert_sha256,
        Sha256Digest::FromBytes(subject.cert_sha256(), "subject.cert_sha256"));
    return result;
  }
  result.kind = subject.unix_user().empty() ? GrantSubject::Kind::kUnixGroup
                                            : GrantSubject::Kind::kUnixUser;
  result.name =
      subject.unix_user().empty() ? subject.unix_group() : subject.unix_user();
  DTRUST_RETURN_IF_ERROR(CheckUnixName(result.name, subject.unix_user().empty()
                                                        ? "subject.unix_group"
                                                        : "subject.unix_user"));
  return result;
}

absl::StatusOr<Grant> FromProto(const v1::GrantClientRequest& request) {
  Grant grant;
  DTRUST_ASSIGN_OR_RETURN(grant.subject, FromProto(request.subject()));
  switch (request.role()) {
    case v1::ROLE_READER:
      grant.role = Role::kReader;
      break;
    case v1::ROLE_PUBLISHER:
      grant.role = Role::kPublisher;
      break;
    case v1::ROLE_ADMIN:
      grant.role = Role::kAdmin;
      break;
    default:
      return absl::InvalidArgumentError(
          "role: give ROLE_READER, ROLE_PUBLISHER or ROLE_ADMIN");
  }
  grant.scopes.assign(request.scopes().begin(), request.scopes().end());
  grant.label = request.label();
  return grant;
}

v1::ClientGrant ToProto(const Grant& grant) {
  v1::ClientGrant out;
  v1::ClientSubject* subject = out.mutable_subject();
  switch (grant.subject.kind) {
    case GrantSubject::Kind::kCertificate:
      subject->set_cert_sha256(std::string(grant.subject.cert_sha256.bytes()));
      break;
    case GrantSubject::Kind::kUnixUser:
      subject->set_unix_user(grant.subject.name);
      break;
    case GrantSubject::Kind::kUnixGroup:
      subject->set_unix_group(grant.subject.name);
      break;
  }
  out.set_role(grant.role == Role::kAdmin       ? v1::ROLE_ADMIN
               : grant.role == Role::kPublisher ? v1::ROLE_PUBLISHER
                                                : v1::ROLE_READER);
  for (const std::string& scope : grant.scopes) out.add_scopes(scope);
  out.set_label(grant.label);
  out.set_granted_by(grant.granted_by);
  if (grant.granted != absl::InfinitePast()) {
    out.mutable_granted()->set_seconds(absl::ToUnixSeconds(grant.granted));
  }
  return out;
}

absl::StatusOr<AuditQuery> FromProto(const v1::HistoryRequest& request) {
  AuditQuery query;
  if (!request.server().empty()) {
    DTRUST_ASSIGN_OR_RETURN(query.server,
                            NormalizeDnsName(request.server(), "server"));
  }
  if (!request.domain().empty()) {
    DTRUST_ASSIGN_OR_RETURN(query.domain,
                            NormalizeDnsName(request.domain(), "domain"));
  }
  if (request.has_since()) {
    query.since = absl::FromUnixSeconds(request.since().seconds());
  }
  if (request.limit() > 100000) {
    return absl::InvalidArgumentError("limit: at most 100000");
  }
  if (request.limit() > 0) query.limit = request.limit();
  return query;
}

v1::AuditEvent ToProto(const AuditRecord& record) {
  v1::AuditEvent event;
  const int64_t seconds = absl::ToUnixSeconds(record.time);
  event.mutable_time()->set_seconds(seconds);
  event.mutable_time()->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(record.time - absl::FromUnixSeconds(seconds))));
  event.set_actor(record.actor);
  event.set_from(record.from);
  event.set_action(record.action);
  for (const std::string& server : record.servers) event.add_servers(server);
  for (const std::string& domain : record.domains) event.add_domains(domain);
  event.set_detail(record.detail);
  event.set_outcome(record.outcome);
  return event;
}

}  // namespace dtrust
