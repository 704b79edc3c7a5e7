#include "client/grpc_dtrustd_client.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace dtrust::cli {

GrpcDtrustdClient::GrpcDtrustdClient(std::string endpoint,
                                     absl::Duration timeout,
                                     ChannelSecurity security)
    : endpoint_(std::move(endpoint)),
      timeout_(timeout),
      server_check_(std::move(security.server_check)),
      stub_(v1::DirectTrust::NewStub(
          grpc::CreateChannel(endpoint_, security.credentials))) {}

void GrpcDtrustdClient::SetDeadline(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
}

absl::Status GrpcDtrustdClient::ToStatus(const grpc::Status& status) const {
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return absl::OkStatus();
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::Status(code, message);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          absl::StrCat("no answer from dtrustd at ", endpoint_, " within ",
                       absl::FormatDuration(timeout_), " (", message, ")"));
    default:
      if (server_check_ != nullptr && !server_check_->mismatch().empty()) {
        message = server_check_->mismatch();  // Why the handshake failed.
      }
      if (message.empty()) message = absl::StatusCodeToString(code);
      return absl::Status(
          code, absl::StrCat("dtrustd at ", endpoint_, ": ", message));
  }
}

absl::StatusOr<v1::PublishResponse> GrpcDtrustdClient::Publish(
    const v1::PublishRequest& request) {
  return Unary(&v1::DirectTrust::Stub::Publish, request);
}

absl::StatusOr<v1::PublishChallenge> GrpcDtrustdClient::GetPublishChallenge(
    const v1::PublishChallengeRequest& request) {
  return Unary(&v1::DirectTrust::Stub::GetPublishChallenge, request);
}

absl::StatusOr<v1::UnpublishResponse> GrpcDtrustdClient::Unpublish(
    const v1::UnpublishRequest& request) {
  return Unary(&v1::DirectTrust::Stub::Unpublish, request);
}

absl::StatusOr<std::vector<v1::ServerEntry>> GrpcDtrustdClient::List(
    const v1::ListRequest& request) {
  grpc::ClientContext context;
  SetDeadline(&context);
  std::unique_ptr<grpc::ClientReader<v1::ServerEntry>> reader =
      stub_->List(&context, request);
  std::vector<v1::ServerEntry> entries;
  v1::ServerEntry entry;
  while (reader->Read(&entry)) {
    entries.push_back(std::move(entry));
    entry = v1::ServerEntry();
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return ToStatus(status);
  return entries;
}

absl::StatusOr<v1::VerifyResponse> GrpcDtrustdClient::Verify(
    const v1::VerifyRequest& request) {
  return Unary(&v1::DirectTrust::Stub::Verify, request);
}

absl::StatusOr<v1::DomainPolicy> GrpcDtrustdClient::SetDomainPolicy(
    const v1::SetDomainPolicyRequest& request) {
  return Unary(&v1::DirectTrust::Stub::SetDomainPolicy, request);
}

absl::StatusOr<v1::ListDomainPoliciesResponse>
GrpcDtrustdClient::ListDomainPolicies(
    const v1::ListDomainPoliciesRequest& request) {
  return Unary(&v1::DirectTrust::Stub::ListDomainPolicies, request);
}

absl::StatusOr<v1::ServiceStatus> GrpcDtrustdClient::GetStatus() {
  return Unary(&v1::DirectTrust::Stub::GetStatus, v1::GetStatusRequest());
}

absl::StatusOr<v1::ClientGrant> GrpcDtrustdClient::GrantClient(
    const v1::GrantClientRequest& request) {
  return Unary(&v1::DirectTrust::Stub::GrantClient, request);
}

absl::StatusOr<v1::ClientGrant> GrpcDtrustdClient::RevokeClient(
    const v1::RevokeClientRequest& request) {
  return Unary(&v1::DirectTrust::Stub::RevokeClient, request);
}

absl::StatusOr<v1::ListClientsResponse> GrpcDtrustdClient::ListClients() {
  return Unary(&v1::DirectTrust::Stub::ListClients, v1::ListClientsRequest());
}

absl::StatusOr<v1::HistoryResponse> GrpcDtrustdClient::GetHistory(
    const v1::HistoryRequest& request) {
  return Unary(&v1::DirectTrust::Stub::GetHistory, request);
}

}  // namespace dtrust::cli
