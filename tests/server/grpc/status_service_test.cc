// GetStatus, Ping, snapshot ages in answers, and dtrustd's grpc.health.v1
// service (HealthService), through a real in-process gRPC server.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/grpc/health_service.h"
#include "server/grpc/proto_conversion.h"
#include "tests/server/grpc/grpc_harness.h"
#include "tests/testing/eventually.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_directory.h"
#include "tests/testing/fake_directory_monitor.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::GrpcHarness;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

constexpr char kService[] = "dtrust.v1.DirectTrust";

class StatusServiceTest : public ::testing::Test {
 protected:
  grpc::Status GetStatus(v1::ServiceStatus* status) {
    grpc::ClientContext context;
    return harness_.stub().GetStatus(&context, v1::GetStatusRequest(), status);
  }
  v1::VerifyResponse VerifyUnpublished() {
    v1::VerifyRequest request;
    request.set_certificate_der(testing::MakeTestCert().der);
    v1::VerifyResponse response;
    grpc::ClientContext context;
    const grpc::Status status =
        harness_.stub().Verify(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.verdict(), v1::NOT_PUBLISHED);
    return response;
  }
  v1::ListDomainPoliciesResponse ListDomainPolicies() {
    v1::ListDomainPoliciesResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(harness_.stub()
                    .ListDomainPolicies(
                        &context, v1::ListDomainPoliciesRequest(), &response)
                    .ok());
    return response;
  }
  // The health service's answer for `service`; UNKNOWN (with a failure) if
  // the call fails.
  HealthCheckResponse::ServingStatus Health(const std::string& service) {
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    grpc::ClientContext context;
    const grpc::Status status =
        harness_.health().Check(&context, request, &response);
    EXPECT_TRUE(status.ok()) << service << ": " << status.error_message();
    return response.status();
  }
  // Polls Check("") and Check(kService) until both say `expected`, for at
  // most `timeout`; true if they did.
  bool AwaitHealth(HealthCheckResponse::ServingStatus expected,
                   absl::Duration timeout = absl::Seconds(5)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (Health("") == expected && Health(kService) == expected) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  testing::FakeDirectory directory_;
  GrpcHarness harness_{&directory_};
};

TEST_F(StatusServiceTest, PingIsOk) {
  grpc::ClientContext context;
  v1::PingResponse response;
  EXPECT_TRUE(
      harness_.stub().Ping(&context, v1::PingRequest(), &response).ok());
}

TEST_F(StatusServiceTest, GetStatusReportsTheMonitor) {
  const absl::Time started = absl::FromUnixSeconds(1700000000);
  DirectoryStatus mirror;
  mirror.mode = SyncMode::kRefreshAndPersist;
  mirror.serving = true;
  mirror.connected = true;
  mirror.uri = "ldap://ldap2.example.org";
  mirror.snapshot_age = absl::Milliseconds(1500);
  mirror.max_staleness = absl::Minutes(5);
  mirror.last_current = started + absl::Seconds(90);
  mirror.last_error = "ldap://ldap1.example.org: connection refused";
  mirror.servers = 3;
  mirror.pins = 5;
  mirror.domain_policies = 7;
  mirror.index_bytes = 1024;
  mirror.initial_load = absl::Milliseconds(250);
  mirror.started = started;
  harness_.monitor().Set(mirror);

  v1::ServiceStatus status;
  ASSERT_TRUE(GetStatus(&status).ok());
  EXPECT_TRUE(status.serving());
  EXPECT_EQ(status.sync_mode(), v1::SYNC_MODE_REFRESH_AND_PERSIST);
  EXPECT_EQ(status.directory_uri(), "ldap://ldap2.example.org");
  EXPECT_TRUE(status.connected());
  EXPECT_EQ(status.snapshot_age().seconds(), 1);
  EXPECT_EQ(status.snapshot_age().nanos(), 500000000);
  EXPECT_EQ(status.max_staleness().seconds(), 300);
  EXPECT_EQ(status.last_current().seconds(), 1700000090);
  EXPECT_EQ(status.last_error(), mirror.last_error);
  EXPECT_EQ(status.servers(), 3u);
  EXPECT_EQ(status.pins(), 5u);
  EXPECT_EQ(status.domain_policies(), 7u);
  EXPECT_EQ(status.index_bytes(), 1024u);
  EXPECT_EQ(status.initial_load().nanos(), 250000000);
  EXPECT_EQ(status.started().seconds(), 1700000000);

  mirror.mode = SyncMode::kPoll;
  harness_.monitor().Set(mirror);
  ASSERT_TRUE(GetStatus(&status).ok());
  EXPECT_EQ(status.sync_mode(), v1::SYNC_MODE_POLL);
}

TEST_F(StatusServiceTest, GetStatusLeavesAbsentValuesUnset) {
  DirectoryStatus direct;
  direct.mode = SyncMode::kNone;
  direct.uri = "ldapi://%2Fvar%2Flib%2Fdtrust%2Fldapi";
  direct.last_error = "cannot connect";
  harness_.monitor().Set(direct);

  // Not serving is what the status says; the call itself succeeds.
  v1::ServiceStatus status;
  ASSERT_TRUE(GetStatus(&status).ok());
  EXPECT_FALSE(status.serving());
  EXPECT_FALSE(status.connected());
  EXPECT_EQ(status.sync_mode(), v1::SYNC_MODE_NONE);
  EXPECT_EQ(status.directory_uri(), direct.uri);
  EXPECT_EQ(status.last_error(), "cannot connect");
  EXPECT_FALSE(status.has_snapshot_age());
  EXPECT_FALSE(status.has_last_current());
  EXPECT_FALSE(status.has_initial_load());
  EXPECT_FALSE(status.has_started());
}

TEST(ProtoConversionTest, DurationsAreClampedToTheProtoRange) {
  EXPECT_EQ(ToProto(absl::InfiniteDuration()).seconds(), 315576000000);
  EXPECT_EQ(ToProto(-absl::InfiniteDuration()).seconds(), -315576000000);
  const google::protobuf::Duration negative =
      ToProto(absl::Milliseconds(-1500));
  EXPECT_EQ(negative.seconds(), -1);
  EXPECT_EQ(negative.nanos(), -500000000);
}

TEST_F(StatusServiceTest, AnswersCarryTheSnapshotAgeWhenThereIsOne) {
  EXPECT_FALSE(VerifyUnpublished().has_snapshot_age());
  EXPECT_FALSE(ListDomainPolicies().has_snapshot_age());

  DirectoryStatus mirror;
  mirror.mode = SyncMode::kRefreshAndPersist;
  mirror.serving = true;
  mirror.snapshot_age = absl::Seconds(42);
  harness_.monitor().Set(mirror);
  const v1::VerifyResponse verified = VerifyUnpublished();
  ASSERT_TRUE(verified.has_snapshot_age());
  EXPECT_EQ(verified.snapshot_age().seconds(), 42);
  const v1::ListDomainPoliciesResponse policies = ListDomainPolicies();
  ASSERT_TRUE(policies.has_snapshot_age());
  EXPECT_EQ(policies.snapshot_age().seconds(), 42);

  // Live: zero, but present.
  mirror.snapshot_age = absl::ZeroDuration();
  harness_.monitor().Set(mirror);
  EXPECT_TRUE(VerifyUnpublished().has_snapshot_age());
}

// A monitor status that says serving.
DirectoryStatus Serving() {
  DirectoryStatus status;
  status.serving = true;
  return status;
}

// Starts a health Watch of `service` on `harness`, with a 5 s deadline.
std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> StartWatch(
    GrpcHarness& harness, const std::string& service,
    grpc::ClientContext* context) {
  HealthCheckRequest request;
  request.set_service(service);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(5));
  return harness.health().Watch(context, request);
}

TEST_F(StatusServiceTest, HealthFollowsTheMonitor) {
  // Read at construction: never SERVING before the monitor says so.
  EXPECT_EQ(Health(""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Health(kService), HealthCheckResponse::NOT_SERVING);

  harness_.monitor().SetServing(true);
  EXPECT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));
  harness_.monitor().SetServing(false);
  EXPECT_TRUE(AwaitHealth(HealthCheckResponse::NOT_SERVING));
  harness_.monitor().SetServing(true);
  EXPECT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));
}

TEST(HealthServiceTest, ReadsTheMonitorAtConstruction) {
  testing::FakeDirectory directory;
  GrpcHarness harness(&directory, Serving());
  for (const std::string service : {"", kService}) {
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(harness.health().Check(&context, request, &response).ok());
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVING) << service;
  }
}

TEST_F(StatusServiceTest, HealthWatchSeesTheChange) {
  grpc::ClientContext context;
  auto watch = StartWatch(harness_, kService, &context);
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  harness_.monitor().SetServing(true);
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  context.TryCancel();
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(StatusServiceTest, HealthOfAnUnknownService) {
  HealthCheckRequest request;
  request.set_service("other.v1.Service");
  HealthCheckResponse response;
  grpc::ClientContext check_context;
  const grpc::Status checked =
      harness_.health().Check(&check_context, request, &response);
  EXPECT_EQ(checked.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(checked.error_message(),
              ::testing::HasSubstr("other.v1.Service"));

  // Watch says so and keeps watching: no change to report until shutdown.
  grpc::ClientContext context;
  auto watch = StartWatch(harness_, request.service(), &context);
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  harness_.monitor().SetServing(true);
  EXPECT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));
  harness_.health_service().Shutdown();
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(watch->Read(&response));
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(HealthServiceTest, ShutdownEndsWatchesPromptly) {
  // Nothing changes: only Shutdown() itself can wake the watchers in time.
  testing::FakeDirectory directory;
  GrpcHarness harness(&directory, Serving());
  grpc::ClientContext context;
  auto watch = StartWatch(harness, kService, &context);
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  const absl::Time start = absl::Now();
  harness.health_service().Shutdown();
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(watch->Read(&response));
  const grpc::Status finished = watch->Finish();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_EQ(finished.error_code(), grpc::StatusCode::UNAVAILABLE);

  HealthCheckRequest request;
  request.set_service(kService);
  grpc::ClientContext check_context;
  ASSERT_TRUE(harness.health().Check(&check_context, request, &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
}

TEST_F(StatusServiceTest, HealthWatchReturnsWhenTheClientCancels) {
  grpc::ClientContext context;
  auto watch = StartWatch(harness_, "", &context);
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  context.TryCancel();
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // The server shuts down at once only if no handler is still running; a
  // Watch handler that missed the cancellation would keep it waiting.
  absl::Notification stopped;
  std::thread shutdown([&] {
    harness_.server().Shutdown(std::chrono::system_clock::now() +
                               std::chrono::seconds(30));
    stopped.Notify();
  });
  const bool prompt = stopped.WaitForNotificationWithTimeout(absl::Seconds(1));
  // Frees a stuck handler, so that the test fails rather than hangs.
  harness_.health_service().Shutdown();
  shutdown.join();
  EXPECT_TRUE(prompt);
}

TEST(HealthServiceTest, RefusesWatchesOverTheLimit) {
  testing::FakeDirectory directory;
  GrpcHarness harness(&directory, Serving(), {.max_watches = 2});
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<HealthCheckResponse>>> watches;
  HealthCheckResponse response;
  for (int i = 0; i < 2; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    watches.push_back(StartWatch(harness, kService, contexts.back().get()));
    ASSERT_TRUE(watches.back()->Read(&response)) << i;
  }
  grpc::ClientContext over_context;
  auto over = StartWatch(harness, kService, &over_context);
  EXPECT_FALSE(over->Read(&response));
  const grpc::Status refused = over->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), ::testing::HasSubstr("2 watches"));

  // A finished watch frees its place.
  contexts.front()->TryCancel();
  EXPECT_EQ(watches.front()->Finish().error_code(),
            grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(testing::Eventually([&] {
    grpc::ClientContext again_context;
    auto again = StartWatch(harness, kService, &again_context);
    const bool admitted = again->Read(&response);
    again_context.TryCancel();
    again->Finish();
    return admitted;
  }));
}

// The health status of the whole server on `harness`.
HealthCheckResponse::ServingStatus CheckHealth(GrpcHarness& harness) {
  HealthCheckRequest request;
  HealthCheckResponse response;
  grpc::ClientContext context;
  if (!harness.health().Check(&context, request, &response).ok()) {
    return HealthCheckResponse::UNKNOWN;
  }
  return response.status();
}

// No poll: the service wakes for a reported change and at recheck_at, a
// moment on the monitor's clock (here a fake one), and never otherwise.
TEST(HealthServiceTest, WakesOnlyForChangesAndAtTheRecheck) {
  testing::FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  testing::FakeDirectory directory;
  DirectoryStatus status = Serving();
  status.recheck_at = clock.Now() + absl::Hours(1);  // Far off.
  GrpcHarness harness(&directory, status, {.clock = &clock});
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(harness.health_service().wakeups(), 0);
  EXPECT_EQ(CheckHealth(harness), HealthCheckResponse::SERVING);

  // A change re-arms the timer for the new bound, 300 ms away; at that
  // moment (the fake clock moved there) the status has changed unannounced,
  // as a mirror's ageing data does.
  status.recheck_at = clock.Now() + absl::Milliseconds(300);
  harness.monitor().Set(status);
  EXPECT_TRUE(testing::Eventually(
      [&] { return harness.health_service().wakeups() == 1; }));
  clock.Set(*status.recheck_at);
  DirectoryStatus stale = Serving();
  stale.serving = false;
  harness.monitor().SetQuietly(stale);
  EXPECT_TRUE(testing::Eventually(
      [&] { return CheckHealth(harness) == HealthCheckResponse::NOT_SERVING; },
      absl::Seconds(2)));
  EXPECT_EQ(harness.health_service().wakeups(), 2);

  // Nothing due, nothing reported: it sleeps.
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(harness.health_service().wakeups(), 2);
}

TEST(HealthServiceTest, StopsPromptly) {
  testing::FakeDirectoryMonitor monitor;
  const absl::Time start = absl::Now();
  const Authorizer authorizer({}, nullptr, UnixAccounts::System());
  { HealthService health(&monitor, &authorizer); }
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

}  // namespace
}  // namespace dtrust
