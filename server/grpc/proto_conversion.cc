#include "server/grpc/proto_conversion.h"

#include <algorithm>
#include <string>
#include <utility>

#include "server/base/status_macros.h"

namespace dtrust {
namespace {

void SetTime(absl::Time time, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
}

void SetDuration(absl::Duration duration, google::protobuf::Duration* out) {
  // google.protobuf.Duration spans about +-10000 years.
  constexpr absl::Duration kLimit = absl::Seconds(315576000000);
  duration = std::clamp(duration, -kLimit, kLimit);
  absl::Duration rest;
  const int64_t seconds = absl::IDivDuration(duration, absl::Seconds(1), &rest);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(rest)));
}

v1::SyncMode ToProto(SyncMode mode) {
  switch (mode) {
    case SyncMode::kNone:
      return v1::SYNC_MODE_NONE;
    case SyncMode::kRefreshAndPersist:
      return v1::SYNC_MODE_REFRESH_AND_PERSIST;
    case SyncMode::kPoll:
      return v1::SYNC_MODE_POLL;
  }
  return v1::SYNC_MODE_UNSPECIFIED;
}

// The Timestamp in `field`, nullopt when unset; InvalidArgument naming the
// field when it is out of Timestamp's range (years 1 to 9999).
absl::StatusOr<std::optional<absl::Time>> OptionalTime(
    bool present, const google::protobuf::Timestamp& time,
    absl::string_view field) {
  if (!present) return std::nullopt;
  constexpr int64_t kMinSeconds = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z
  if (time.seconds() < kMinSeconds || time.seconds() > kMaxSeconds ||
      time.nanos() < 0 || time.nanos() > 999999999) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not a valid timestamp (seconds ", time.seconds(),
                     ", nanos ", time.nanos(), ")"));
  }
  return absl::FromUnixSeconds(time.seconds()) +
         absl::Nanoseconds(time.nanos());
}

// Sets the pin_not_before/pin_not_after fields of `out` (a v1::Pin or
// v1::VerifyResponse) that `window` has.
template <typename Message>
void SetWindow(const PinWindow& window, Message* out) {
  if (window.not_before) {
    SetTime(*window.not_before, out->mutable_pin_not_before());
  }
  if (window.not_after)
    SetTime(*window.not_after, out->mutable_pin_not_after());
}

v1::PinKind ToProto(PinKind kind) {
  return kind == PinKind::kPublicKey ? v1::PIN_KIND_PUBLIC_KEY
                                     : v1::PIN_KIND_CERTIFICATE;
}

absl::StatusOr<PinKind> FromProto(v1::PinKind kind) {
  switch (kind) {
    case v1::PIN_KIND_UNSPECIFIED:
    case v1::PIN_KIND_CERTIFICATE:
      return PinKind::kCertificate;
    case v1::PIN_KIND_PUBLIC_KEY:
      return PinKind::kPublicKey;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("pin_kind: unknown value ", static_cast<int>(kind)));
  }
}

v1::PinProvenance ToProto(PinProvenance provenance) {
  return provenance == PinProvenance::kPossessionProven
             ? v1::PIN_PROVENANCE_POSSESSION_PROVEN
             : v1::PIN_PROVENANCE_ASSERTED;
}

v1::Verdict ToProto(Verdict verdict) {
  switch (verdict) {
    case Verdict::kTrusted:
      return v1::TRUSTED;
    case Verdict::kNotPublished:
      return v1::NOT_PUBLISHED;
    case Verdict::kWrongServer:
      return v1::WRONG_SERVER;
    case Verdict::kWrongDomain:
      return v1::WRONG_DOMAIN;
    case Verdict::kExpired:
      return v1::EXPIRED;
    case Verdict::kNotYetValid:
      return v1::NOT_YET_VALID;
    case Verdict::kPinExpired:
      return v1::PIN_EXPIRED;
    case Verdict::kPinNotYetActive:
      return v1::PIN_NOT_YET_ACTIVE;
  }
  return v1::VERDICT_UNSPECIFIED;
}

// An optional digest field: empty means absent.
absl::StatusOr<std::optional<Sha256Digest>> OptionalDigest(
    const std::string& bytes, absl::string_view field) {
  if (bytes.empty()) return std::nullopt;
  DTRUST_ASSIGN_OR_RETURN(Sha256Digest digest,
                          Sha256Digest::FromBytes(bytes, field));
  return digest;
}

void ToProto(const PinRecord& pin, bool include_certificate, v1::Pin* out) {
  out->set_sha256(std::string(pin.cert_sha256.bytes()));
  out->set_spki_sha256(std::string(pin.spki_sha256.bytes()));
  out->set_kind(ToProto(pin.kind));
  SetTime(pin.not_before, out->mutable_not_before());
  SetTime(pin.not_after, out->mutable_not_after());
  out->set_subject(pin.subject);
  if (include_certificate) out->set_certificate_der(pin.der);
  SetWindow(pin.window, out);
  out->set_provenance(ToProto(pin.provenance));
  out->set_publisher(pin.publisher);
}

v1::SecureMode ToProto(SecureMode mode) {
  switch (mode) {
    case SecureMode::kOff:
      return v1::SECURE_MODE_OFF;
    case SecureMode::kEnforce:
      return v1::SECURE_MODE_ENFORCE;
    case SecureMode::kTesting:
      return v1::SECURE_MODE_TESTING;
  }
  return v1::SECURE_MODE_UNSPECIFIED;
}

// UNSPECIFIED: nullopt (leave unchanged).
absl::StatusOr<std::optional<SecureMode>> FromProto(v1::SecureMode mode,
                                                    absl::string_view field) {
  switch (mode) {
    case v1::SECURE_MODE_UNSPECIFIED:
      return std::nullopt;
    case v1::SECURE_MODE_OFF:
      return SecureMode::kOff;
    case v1::SECURE_MODE_ENFORCE:
      return SecureMode::kEnforce;
    case v1::SECURE_MODE_TESTING:
      return SecureMode::kTesting;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": unknown secure mode ", static_cast<int>(mode)));
  }
}

}  // namespace

absl::StatusOr<DomainPolicyChange> FromProto(
    const v1::SetDomainPolicyRequest& request) {
  DomainPolicyChange change{.domain = request.domain()};
  DTRUST_ASSIGN_OR_RETURN(change.send, FromProto(request.send(), "send"));
  DTRUST_ASSIGN_OR_RETURN(change.receive,
                          FromProto(request.receive(), "receive"));
  return change;
}

v1::DomainPolicy ToProto(const DomainPolicy& policy) {
  v1::DomainPolicy out;
  out.set_domain(policy.domain);
  out.set_send(ToProto(policy.send));
  out.set_receive(ToProto(policy.receive));
  return out;
}

absl::StatusOr<PublishRequest> FromProto(const v1::PublishRequest& request) {
  DTRUST_ASSIGN_OR_RETURN(PinKind kind, FromProto(request.pin_kind()));
  PinWindow window;
  DTRUST_ASSIGN_OR_RETURN(
      window.not_before,
      OptionalTime(request.has_pin_not_before(), request.pin_not_before(),
                   "pin_not_before"));
  DTRUST_ASSIGN_OR_RETURN(
      window.not_after, OptionalTime(request.has_pin_not_after(),
                                     request.pin_not_after(), "pin_not_after"));
  return PublishRequest{.server = request.server(),
                        .domains = std::vector<std::string>(
                            request.domains().begin(), request.domains().end()),
                        .certificate_der = request.certificate_der(),
                        .kind = kind,
                        .window = window,
                        .challenge = request.challenge(),
                        .possession_signature = request.possession_signature()};
}

absl::StatusOr<Sha256Digest> FromProto(
    const v1::PublishChallengeRequest& request) {
  return Sha256Digest::FromBytes(request.sha256(), "sha256");
}

v1::PublishChallenge ToProto(const PossessionChallenge& challenge) {
  v1::PublishChallenge out;
  out.set_challenge(challenge.bytes);
  SetTime(challenge.expires, out.mutable_expires());
  return out;
}

absl::StatusOr<UnpublishRequest> FromProto(
    const v1::UnpublishRequest& request) {
  UnpublishRequest out;
  out.server = request.server();
  switch (request.certificate_case()) {
    case v1::UnpublishRequest::kCertificateDer:
      out.certificate_der = request.certificate_der();
      break;
    case v1::UnpublishRequest::kSha256: {
      DTRUST_ASSIGN_OR_RETURN(
          out.cert_sha256, Sha256Digest::FromBytes(request.sha256(), "sha256"));
      break;
    }
    case v1::UnpublishRequest::CERTIFICATE_NOT_SET:
      break;  // The core says what is missing.
  }
  return out;
}

absl::StatusOr<VerifyRequest> FromProto(const v1::VerifyRequest& request) {
  VerifyRequest out;
  out.certificate_der = request.certificate_der();
  DTRUST_ASSIGN_OR_RETURN(out.cert_sha256,
                          OptionalDigest(request.sha256(), "sha256"));
  DTRUST_ASSIGN_OR_RETURN(out.spki_sha256,
                          OptionalDigest(request.spki_sha256(), "spki_sha256"));
  out.expected_server = request.expected_server();
  out.expected_domain = request.expected_domain();
  return out;
}

ServerFilter FromProto(const v1::ListRequest& request) {
  return ServerFilter{request.server(), request.domain()};
}

v1::ServerEntry ToProto(const ServerRecord& server, bool include_certificates) {
  v1::ServerEntry out;
  out.set_name(server.name);
  for (const std::string& domain : server.domains) out.add_domains(domain);
  for (const PinRecord& pin : server.pins) {
    ToProto(pin, include_certificates, out.add_pins());
  }
  return out;
}

v1::PublishResponse ToProto(const PublishResult& result) {
  v1::PublishResponse out;
  switch (result.outcome) {
    case PublishResult::Outcome::kPublished:
      out.set_outcome(v1::PublishResponse::PUBLISHED);
      break;
    case PublishResult::Outcome::kAlreadyPublished:
      out.set_outcome(v1::PublishResponse::ALREADY_PUBLISHED);
      break;
    case PublishResult::Outcome::kPinUpdated:
      out.set_outcome(v1::PublishResponse::PIN_UPDATED);
      break;
  }
  *out.mutable_server() = ToProto(result.server, false);
  ToProto(result.pin, false, out.mutable_pin());
  if (result.previous) {
    ToProto(*result.previous, false, out.mutable_previous_pin());
  }
  for (const std::string& domain : result.domains_added) {
    out.add_domains_added(domain);
  }
  return out;
}

v1::UnpublishResponse ToProto(const UnpublishResult& result) {
  v1::UnpublishResponse out;
  out.set_sha256(std::string(result.cert_sha256.bytes()));
  for (const std::string& server : result.servers) out.add_servers(server);
  for (const std::string& server : result.servers_removed) {
    out.add_servers_removed(server);
  }
  return out;
}

v1::VerifyResponse ToProto(VerifyResult result) {
  v1::VerifyResponse out;
  out.set_verdict(ToProto(result.verdict));
  out.set_reason(std::move(result.reason));
  if (result.cert_sha256) {
    const absl::string_view bytes = result.cert_sha256->bytes();
    out.set_sha256(bytes.data(), bytes.size());
  }
  if (result.spki_sha256) {
    const absl::string_view bytes = result.spki_sha256->bytes();
    out.set_spki_sha256(bytes.data(), bytes.size());
  }
  out.set_server(std::move(result.server));
  for (std::string& domain : result.domains) {
    out.add_domains(std::move(domain));
  }
  if (result.pin_kind) out.set_pin_kind(ToProto(*result.pin_kind));
  if (result.not_before) SetTime(*result.not_before, out.mutable_not_before());
  if (result.not_after) SetTime(*result.not_after, out.mutable_not_after());
  SetWindow(result.pin_window, &out);
  if (result.provenance) out.set_provenance(ToProto(*result.provenance));
  out.set_publisher(std::move(result.publisher));
  return out;
}

google::protobuf::Duration ToProto(absl::Duration duration) {
  google::protobuf::Duration out;
  SetDuration(duration, &out);
  return out;
}

v1::ServiceStatus ToProto(const DirectoryStatus& status) {
  v1::ServiceStatus out;
  out.set_serving(status.serving);
  out.set_sync_mode(ToProto(status.mode));
  out.set_directory_uri(status.uri);
  out.set_connected(status.connected);
  if (status.snapshot_age) {
    SetDuration(*status.snapshot_age, out.mutable_snapshot_age());
  }
  SetDuration(status.max_staleness, out.mutable_max_staleness());
  if (status.last_current) {
    SetTime(*status.last_current, out.mutable_last_current());
  }
  out.set_last_error(status.last_error);
  out.set_servers(status.servers);
  out.set_pins(status.pins);
  out.set_domain_policies(status.domain_policies);
  out.set_index_bytes(status.index_bytes);
  if (status.initial_load) {
    SetDuration(*status.initial_load, out.mutable_initial_load());
  }
  if (status.started != absl::InfinitePast()) {
    SetTime(status.started, out.mutable_started());
  }
  return out;
}

}  // namespace dtrust
