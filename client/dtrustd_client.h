// What the dtrust commands ask of dtrustd: one method per RPC they use. The
// real implementation is GrpcDtrustdClient (grpc_dtrustd_client.h); unit
// tests of the commands give them a fake.
#ifndef DTRUST_CLIENT_DTRUSTD_CLIENT_H_
#define DTRUST_CLIENT_DTRUSTD_CLIENT_H_

#include <vector>

#include "absl/status/statusor.h"
#include "dtrust/v1/dtrust.pb.h"

namespace dtrust::cli {

// Calls the DirectTrust service of one dtrustd. Each call either returns
// dtrustd's answer or an error whose code is the RPC's status code: the
// "bad input" codes (InvalidArgument, NotFound, AlreadyExists,
// FailedPrecondition) and refusals (PermissionDenied, Unauthenticated) carry
// dtrustd's own message; the rest (Unavailable, DeadlineExceeded, ...) say
// which dtrustd failed. Implementations are thread-safe.
class DtrustdClient {
 public:
  virtual ~DtrustdClient() = default;

  virtual absl::StatusOr<v1::PublishResponse> Publish(
      const v1::PublishRequest& request) = 0;
  virtual absl::StatusOr<v1::PublishChallenge> GetPublishChallenge(
      const v1::PublishChallengeRequest& request) = 0;
  virtual absl::StatusOr<v1::UnpublishResponse> Unpublish(
      const v1::UnpublishRequest& request) = 0;
  // All entries of the List stream, in the order dtrustd sent them.
  virtual absl::StatusOr<std::vector<v1::ServerEntry>> List(
      const v1::ListRequest& request) = 0;
  virtual absl::StatusOr<v1::VerifyResponse> Verify(
      const v1::VerifyRequest& request) = 0;
  virtual absl::StatusOr<v1::DomainPolicy> SetDomainPolicy(
      const v1::SetDomainPolicyRequest& request) = 0;
  virtual absl::StatusOr<v1::ListDomainPoliciesResponse> ListDomainPolicies(
      const v1::ListDomainPoliciesRequest& request) = 0;
  virtual absl::StatusOr<v1::ServiceStatus> GetStatus() = 0;
  virtual absl::StatusOr<v1::ClientGrant> GrantClient(
      const v1::GrantClientRequest& request) = 0;
  virtual absl::StatusOr<v1::ClientGrant> RevokeClient(
      const v1::RevokeClientRequest& request) = 0;
  virtual absl::StatusOr<v1::ListClientsResponse> ListClients() = 0;
  virtual absl::StatusOr<v1::HistoryResponse> GetHistory(
      const v1::HistoryRequest& request) = 0;
};

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_DTRUSTD_CLIENT_H_
