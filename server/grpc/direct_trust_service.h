// The dtrust.v1.DirectTrust gRPC service: a thin adapter over TrustService.
#ifndef DTRUST_SERVER_GRPC_DIRECT_TRUST_SERVICE_H_
#define DTRUST_SERVER_GRPC_DIRECT_TRUST_SERVICE_H_

#include <optional>
#include <string>

#include "dtrust/v1/dtrust.grpc.pb.h"
#include "server/auth/audit.h"
#include "server/auth/authorizer.h"
#include "server/auth/client_grants.h"
#include "server/core/directory_status.h"
#include "server/core/log_rate_limiter.h"
#include "server/core/trust_service.h"
#include "server/grpc/watch_service.h"

namespace dtrust {

// Converts requests, calls the core, converts answers and statuses. Every
// call first establishes the caller's identity (PeerIdentity) and asks the
// authorizer whether its role allows the method (reader: Verify, Ping,
// GetStatus, Watch; publisher: List, Publish, Unpublish, GetPublishChallenge,
// ListDomainPolicies, within its scopes; admin: SetDomainPolicy); a refused
// call changes nothing. Logs every write (who, what); verdicts other than
// TRUSTED and failed calls, which any client can cause at will, at most
// kClientLinesPerSecond lines a second each (then how many were left out).
// Records the caller's identity as a pin's publisher. Verify and
// ListDomainPolicies answers carry the monitor's snapshot age when it has
// one; GetStatus reports the monitor's status.
// GrantClient, RevokeClient and ListClients (admin) manage `grants`. Every
// write (Publish, Unpublish, SetDomainPolicy, GrantClient, RevokeClient),
// allowed or refused, is one record for `auditor` (who, from where, what,
// before -> after, outcome); GetHistory (admin) reads them back.
// Thread-safe; owns none of its pointers (all non-null), which must outlive
// it.
class DirectTrustService final : public v1::DirectTrust::Service {
 public:
  static constexpr int kClientLinesPerSecond = 20;

  DirectTrustService(TrustService* trust_service,
                     const DirectoryMonitor* monitor,
                     const Authorizer* authorizer, ClientGrants* grants,
                     Auditor* auditor, WatchService* watch = nullptr)
      : trust_service_(trust_service),
        monitor_(monitor),
        authorizer_(authorizer),
        grants_(grants),
        auditor_(auditor),
        watch_(watch) {}

  grpc::Status Publish(grpc::ServerContext* context,
                       const v1::PublishRequest* request,
                       v1::PublishResponse* response) override;
  grpc::Status GetPublishChallenge(grpc::ServerContext* context,
                                   const v1::PublishChallengeRequest* request,
                                   v1::PublishChallenge* response) override;
  grpc::Status Unpublish(grpc::ServerContext* context,
                         const v1::UnpublishRequest* request,
                         v1::UnpublishResponse* response) override;
  grpc::Status List(grpc::ServerContext* context,
                    const v1::ListRequest* request,
                    grpc::ServerWriter<v1::ServerEntry>* writer) override;
  grpc::Status Verify(grpc::ServerContext* context,
                      const v1::VerifyRequest* request,
                      v1::VerifyResponse* response) override;
  grpc::Status SetDomainPolicy(grpc::ServerContext* context,
                               const v1::SetDomainPolicyRequest* request,
                               v1::DomainPolicy* response) override;
  grpc::Status ListDomainPolicies(
      grpc::ServerContext* context,
      const v1::ListDomainPoliciesRequest* request,
      v1::ListDomainPoliciesResponse* response) override;
  grpc::Status GrantClient(grpc::ServerContext* context,
                           const v1::GrantClientRequest* request,
                           v1::ClientGrant* response) override;
  grpc::Status RevokeClient(grpc::ServerContext* context,
                            const v1::RevokeClientRequest* request,
                            v1::ClientGrant* response) override;
  grpc::Status ListClients(grpc::ServerContext* context,
                           const v1::ListClientsRequest* request,
                           v1::ListClientsResponse* response) override;
  grpc::Status GetHistory(grpc::ServerContext* context,
                          const v1::HistoryRequest* request,
                          v1::HistoryResponse* response) override;
  // Always OK: an unreachable directory is what the status reports.
  grpc::Status GetStatus(grpc::ServerContext* context,
                         const v1::GetStatusRequest* request,
                         v1::ServiceStatus* response) override;
  // Reader role; served by `watch` (FAILED_PRECONDITION without one: no
  // mirror).
  grpc::Status Watch(grpc::ServerContext* context,
                     const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::WatchEvent>* writer) override;
  // Always OK, does nothing.
  grpc::Status Ping(grpc::ServerContext* context,
                    const v1::PingRequest* request,
                    v1::PingResponse* response) override;

 private:
  // The caller's authority for `method`, which needs `role`.
  absl::StatusOr<Authority> Authorize(const grpc::ServerContext& context,
                                      Role role,
                                      absl::string_view method) const;
  // A record of `action` by the caller (its role decided or refused).
  AuditRecord StartAudit(const grpc::ServerContext& context,
                         absl::string_view action,
                         const absl::StatusOr<Authority>& authority) const;
  // Records `record` with the outcome `status` (`ok_outcome` when OK) and
  // returns `status` for gRPC.
  grpc::Status Finish(AuditRecord record, const absl::Status& status,
                      absl::string_view ok_outcome = "");
  // The grant `subject` has now, if it can be read.
  std::optional<Grant> CurrentGrant(const GrantSubject& subject);
  // OK if the caller has `role`; otherwise the refusal (logged).
  grpc::Status Allow(grpc::ServerContext* context, Role role,
                     absl::string_view method);
  // Logs a failed call (rate-limited) and converts its status.
  grpc::Status Failed(absl::string_view method, grpc::ServerContext* context,
                      const absl::Status& status);

  TrustService* const trust_service_;
  const DirectoryMonitor* const monitor_;
  const Authorizer* const authorizer_;
  ClientGrants* const grants_;
  Auditor* const auditor_;
  WatchService* const watch_;  // nullptr: no mirror.
  LogRateLimiter failure_lines_{kClientLinesPerSecond};
  LogRateLimiter verdict_lines_{kClientLinesPerSecond};
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_DIRECT_TRUST_SERVICE_H_
