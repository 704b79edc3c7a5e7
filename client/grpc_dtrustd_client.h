// The CLI's connection to dtrustd: synchronous gRPC calls with a deadline.
#ifndef DTRUST_CLIENT_GRPC_DTRUSTD_CLIENT_H_
#define DTRUST_CLIENT_GRPC_DTRUSTD_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/channel_security.h"
#include "client/dtrustd_client.h"
#include "dtrust/v1/dtrust.grpc.pb.h"

namespace dtrust::cli {

// Calls the DirectTrust service at one endpoint over gRPC. Connects lazily
// (on the first call), so constructing one never fails or blocks.
//
// Every call has a deadline of `timeout` from its start. Errors are the
// gRPC status as absl::Status with the same code; dtrustd's own message is
// kept verbatim for the "bad input" codes (InvalidArgument, NotFound,
// AlreadyExists, FailedPrecondition) and for refusals (PermissionDenied,
// Unauthenticated), and prefixed with the endpoint for the rest (Unavailable,
// DeadlineExceeded, connection failures, ...).
//
// Thread-safe.
class GrpcDtrustdClient : public DtrustdClient {
 public:
  // `endpoint` is a gRPC target: "HOST:PORT" or "unix:PATH"; `security`
  // the channel's credentials (channel_security.h).
  GrpcDtrustdClient(std::string endpoint, absl::Duration timeout,
                    ChannelSecurity security);

  absl::StatusOr<v1::PublishResponse> Publish(
      const v1::PublishRequest& request) override;
  absl::StatusOr<v1::PublishChallenge> GetPublishChallenge(
      const v1::PublishChallengeRequest& request) override;
  absl::StatusOr<v1::UnpublishResponse> Unpublish(
      const v1::UnpublishRequest& request) override;
  // All entries of the stream, in the order dtrustd sent them.
  absl::StatusOr<std::vector<v1::ServerEntry>> List(
      const v1::ListRequest& request) override;
  absl::StatusOr<v1::VerifyResponse> Verify(
      const v1::VerifyRequest& request) override;
  absl::StatusOr<v1::DomainPolicy> SetDomainPolicy(
      const v1::SetDomainPolicyRequest& request) override;
  absl::StatusOr<v1::ListDomainPoliciesResponse> ListDomainPolicies(
      const v1::ListDomainPoliciesRequest& request) override;
  absl::StatusOr<v1::ServiceStatus> GetStatus() override;
  absl::StatusOr<v1::ClientGrant> GrantClient(
      const v1::GrantClientRequest& request) override;
  absl::StatusOr<v1::ClientGrant> RevokeClient(
      const v1::RevokeClientRequest& request) override;
  absl::StatusOr<v1::ListClientsResponse> ListClients() override;
  absl::StatusOr<v1::HistoryResponse> GetHistory(
      const v1::HistoryRequest& request) override;

 private:
  // One unary call of `method` with the deadline, status mapped.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Unary(
      grpc::Status (v1::DirectTrust::Stub::*method)(grpc::ClientContext*,
                                                    const Request&, Response*),
      const Request& request) {
    grpc::ClientContext context;
    SetDeadline(&context);
    Response response;
    grpc::Status status = (stub_.get()->*method)(&context, request, &response);
    if (!status.ok()) return ToStatus(status);
    return response;
  }

  void SetDeadline(grpc::ClientContext* context) const;
  absl::Status ToStatus(const grpc::Status& status) const;

  const std::string endpoint_;
  const absl::Duration timeout_;
  const std::shared_ptr<ServerCheckRecord> server_check_;  // May be null.
  const std::unique_ptr<v1::DirectTrust::Stub> stub_;
};

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_GRPC_DTRUSTD_CLIENT_H_
