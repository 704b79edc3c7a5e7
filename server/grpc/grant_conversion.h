// Client grants and audit records between the gRPC API and server/auth.
#ifndef DTRUST_SERVER_GRPC_GRANT_CONVERSION_H_
#define DTRUST_SERVER_GRPC_GRANT_CONVERSION_H_

#include "absl/status/statusor.h"
#include "dtrust/v1/dtrust.pb.h"
#include "server/auth/audit.h"
#include "server/auth/grant.h"

namespace dtrust {

// Exactly one of the subject's fields must be set (a 32-byte digest or a
// valid unix name); InvalidArgument naming the field otherwise.
absl::StatusOr<GrantSubject> FromProto(const v1::ClientSubject& subject);
// The subject checked as above and the role (reader, publisher or admin);
// scopes and label are checked by ClientGrants.
absl::StatusOr<Grant> FromProto(const v1::GrantClientRequest& request);
v1::ClientGrant ToProto(const Grant& grant);

// History queries: names normalized (InvalidArgument naming the field), the
// limit 1 to 100000 (0: 1000).
absl::StatusOr<AuditQuery> FromProto(const v1::HistoryRequest& request);
v1::AuditEvent ToProto(const AuditRecord& record);

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_GRANT_CONVERSION_H_
