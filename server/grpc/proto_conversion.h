// Conversions between dtrust.v1 messages and core types. Pure functions.
#ifndef DTRUST_SERVER_GRPC_PROTO_CONVERSION_H_
#define DTRUST_SERVER_GRPC_PROTO_CONVERSION_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dtrust/v1/dtrust.pb.h"
#include "google/protobuf/duration.pb.h"
#include "server/core/directory_status.h"
#include "server/core/trust_service.h"

namespace dtrust {

// Requests: InvalidArgument naming the field when it cannot be converted.
absl::StatusOr<PublishRequest> FromProto(const v1::PublishRequest& request);
absl::StatusOr<UnpublishRequest> FromProto(const v1::UnpublishRequest& request);
absl::StatusOr<VerifyRequest> FromProto(const v1::VerifyRequest& request);
ServerFilter FromProto(const v1::ListRequest& request);
absl::StatusOr<DomainPolicyChange> FromProto(
    const v1::SetDomainPolicyRequest& request);
// The certificate digest of a challenge request (the server is validated by
// TrustService::PublishChallenge).
absl::StatusOr<Sha256Digest> FromProto(
    const v1::PublishChallengeRequest& request);

v1::PublishResponse ToProto(const PublishResult& result);
v1::UnpublishResponse ToProto(const UnpublishResult& result);
v1::VerifyResponse ToProto(VerifyResult result);  // Moves its strings.
v1::ServerEntry ToProto(const ServerRecord& server, bool include_certificates);
v1::DomainPolicy ToProto(const DomainPolicy& policy);
v1::PublishChallenge ToProto(const PossessionChallenge& challenge);
// Durations beyond google.protobuf.Duration's range (about 10000 years,
// InfiniteDuration included) are clamped to it.
google::protobuf::Duration ToProto(absl::Duration duration);
// Optional fields (snapshot_age, last_current, initial_load) are set only
// when `status` has them; `started` only when it is not InfinitePast.
v1::ServiceStatus ToProto(const DirectoryStatus& status);

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_PROTO_CONVERSION_H_
