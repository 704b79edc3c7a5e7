// A real in-process DirectTrust gRPC server for tests, with dtrustd's
// HealthService, and stubs to it.
#ifndef DTRUST_TESTS_SERVER_GRPC_GRPC_HARNESS_H_
#define DTRUST_TESTS_SERVER_GRPC_GRPC_HARNESS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/core/clock.h"
#include "server/core/trust_service.h"
#include "server/grpc/direct_trust_service.h"
#include "server/grpc/health_service.h"
#include "tests/testing/fake_audit_store.h"
#include "tests/testing/fake_directory_monitor.h"
#include "tests/testing/fake_grant_store.h"
#include "tests/testing/test_certs.h"

namespace dtrust::testing {

// Serves on 127.0.0.1:0 over `directory` (not owned, must outlive it), with
// its own FakeDirectoryMonitor, starting at `status` (default:
// SyncMode::kNone, not serving), and a HealthService on it with `health`
// (default: HealthOptions' defaults). Callers over its plain
// TCP port are anonymous; `authorization` says what they may do (default:
// everything, for tests that are not about authorization). Thread-compatible.
class GrpcHarness {
 public:
  explicit GrpcHarness(
      Directory* directory, DirectoryStatus status = {},
      HealthOptions health = {},
      AuthorizerOptions authorization = {.anonymous_role = Role::kAdmin})
      : monitor_(std::move(status)),
        trust_service_(directory, Clock::Real()),
        grant_cache_(&grant_store_, Clock::Real(), absl::Seconds(1),
                     absl::Minutes(5)),
        authorizer_(std::move(authorization), &grant_cache_,
                    UnixAccounts::System()),
        client_grants_(&grant_store_, &grant_cache_, Clock::Real()),
        auditor_(&audit_store_, Clock::Real()),
        service_(&trust_service_, &monitor_, &authorizer_, &client_grants_,
                 &auditor_),
        health_service_(&monitor_, &authorizer_, health) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service_);
    builder.RegisterService(&health_service_);
    server_ = builder.BuildAndStart();
    EXPECT_NE(port, 0);
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                            grpc::InsecureChannelCredentials());
    stub_ = v1::DirectTrust::NewStub(channel);
    health_ = grpc::health::v1::Health::NewStub(channel);
  }
  // As dtrustd does: the health service first, so watchers end at once.
  ~GrpcHarness() {
    health_service_.Shutdown();
    server_->Shutdown();
  }

  v1::DirectTrust::Stub& stub() { return *stub_; }
  grpc::health::v1::Health::Stub& health() { return *health_; }
  grpc::Server& server() { return *server_; }
  HealthService& health_service() { return health_service_; }
  FakeDirectoryMonitor& monitor() { return monitor_; }
  FakeAuditStore& audit_store() { return audit_store_; }

  grpc::Status Publish(const TestCert& cert, const std::string& server,
                       const std::string& domain, v1::PublishResponse* response,
                       v1::PinKind kind = v1::PIN_KIND_CERTIFICATE) {
    v1::PublishRequest request;
    request.set_server(server);
    request.add_domains(domain);
    request.set_certificate_der(cert.der);
    request.set_pin_kind(kind);
    grpc::ClientContext context;
    return stub_->Publish(&context, request, response);
  }
  grpc::Status Verify(const v1::VerifyRequest& request,
                      v1::VerifyResponse* response) {
    grpc::ClientContext context;
    return stub_->Verify(&context, request, response);
  }
  std::vector<v1::ServerEntry> List(const v1::ListRequest& request = {}) {
    grpc::ClientContext context;
    std::vector<v1::ServerEntry> entries;
    auto reader = stub_->List(&context, request);
    v1::ServerEntry entry;
    while (reader->Read(&entry)) entries.push_back(entry);
    EXPECT_TRUE(reader->Finish().ok());
    return entries;
  }

 private:
  FakeDirectoryMonitor monitor_;
  TrustService trust_service_;
  FakeGrantStore grant_store_;
  GrantCache grant_cache_;
  Authorizer authorizer_;
  ClientGrants client_grants_;
  FakeAuditStore audit_store_;
  Auditor auditor_;
  DirectTrustService service_;
  HealthService health_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::DirectTrust::Stub> stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_SERVER_GRPC_GRPC_HARNESS_H_
