// GrpcServing's bounds, each shown to bound what it claims, with tight
// limits on an in-process server whose Health/Watch streams block.
#include "server/grpc/grpc_listeners.h"

#include <chrono>
#include <list>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/auth/authorizer.h"
#include "server/grpc/health_service.h"
#include "tests/testing/eventually.h"
#include "tests/testing/fake_directory_monitor.h"

namespace dtrust {
namespace {

using ::dtrust::testing::Eventually;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

class GrpcLimitsTest : public ::testing::Test {
 protected:
  // Serves the health service (watches blocking until a change) on
  // 127.0.0.1:0 within `limits`.
  void Serve(const GrpcLimits& limits) {
    GrpcListenOptions options;
    options.addresses = {"127.0.0.1:0"};
    options.limits = limits;
    absl::StatusOr<std::unique_ptr<GrpcServing>> serving =
        GrpcServing::Start(options, {&health_});
    ASSERT_TRUE(serving.ok()) << serving.status();
    serving_ = *std::move(serving);
    channel_ = grpc::CreateChannel(serving_->addresses().front(),
                                   grpc::InsecureChannelCredentials());
    stub_ = grpc::health::v1::Health::NewStub(channel_);
  }

  struct Watch {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReader<HealthCheckResponse>> reader;
    HealthCheckResponse response;
    grpc::Status status;
  };

  // `count` new watches that live as long as the fixture: TearDown drains
  // what is still pending on them (a cancelled call's Finish, say), so they
  // must outlive it.
  std::vector<Watch>& Watches(size_t count) {
    return kept_watches_.emplace_back(count);
  }

  // Starts `watch` on the shared channel and asks for its first answer
  // (tag: &watch->response) and its end (tag: watch).
  void StartWatch(Watch* watch) {
    watch->reader = stub_->PrepareAsyncWatch(&watch->context,
                                             HealthCheckRequest(), &queue_);
    watch->reader->StartCall(nullptr);
    watch->reader->Read(&watch->response, &watch->response);
  }

  // The next tag other than StartCall's within `timeout`; nullptr if none.
  // `*ok`: whether its operation succeeded.
  void* Next(absl::Duration timeout, bool* ok = nullptr) {
    const absl::Time deadline = absl::Now() + timeout;
    void* tag = nullptr;
    bool succeeded = false;
    if (ok == nullptr) ok = &succeeded;
    while (queue_.AsyncNext(&tag, ok, absl::ToChronoTime(deadline)) ==
           grpc::CompletionQueue::GOT_EVENT) {
      if (tag != nullptr) return tag;
    }
    return nullptr;
  }

  void TearDown() override {
    health_.Shutdown();
    if (serving_ != nullptr) serving_->Shutdown(absl::ZeroDuration());
    queue_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue_.Next(&tag, &ok)) {
    }
  }

  testing::FakeDirectoryMonitor monitor_;
  const Authorizer authorizer_{
      {.anonymous_role = Role::kReader}, nullptr, UnixAccounts::System()};
  HealthService health_{&monitor_, &authorizer_, {.max_watches = 1000}};
  std::unique_ptr<GrpcServing> serving_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
  grpc::CompletionQueue queue_;
  std::list<std::vector<Watch>> kept_watches_;  // Watches(); after queue_.
};

TEST_F(GrpcLimitsTest, StreamsPerConnectionAreBounded) {
  ASSERT_NO_FATAL_FAILURE(Serve({.max_streams_per_connection = 2}));
  std::vector<Watch>& watches = Watches(3);
  for (Watch& watch : watches) StartWatch(&watch);
  // Two (in any order) get their first answer; the third waits at the
  // client for a free stream...
  std::set<void*> waiting;
  for (Watch& watch : watches) waiting.insert(&watch.response);
  for (int i = 0; i < 2; ++i) {
    bool ok = false;
    void* answered = Next(absl::Seconds(5), &ok);
    EXPECT_TRUE(ok);
    waiting.erase(answered);
  }
  ASSERT_EQ(waiting.size(), 1);
  void* const third = *waiting.begin();
  EXPECT_EQ(Next(absl::Milliseconds(500)), nullptr);
  // ...which it gets once another ends.
  Watch& ended = &watches[0].response == third ? watches[1] : watches[0];
  ended.context.TryCancel();
  ended.reader->Finish(&ended.status, &ended);
  std::set<void*> then;
  for (int i = 0; i < 2; ++i) {
    bool ok = false;
    void* tag = Next(absl::Seconds(5), &ok);
    then.insert(tag);
    if (tag == third) {
      EXPECT_TRUE(ok);
    }
  }
  EXPECT_EQ(then, std::set<void*>({&ended, third}));
  for (Watch& watch : watches) watch.context.TryCancel();
}

TEST_F(GrpcLimitsTest, HandlerThreadsAreBounded) {
  // 8 threads, pollers included: a few watches get a thread, the rest are
  // refused at once instead of starting more.
  ASSERT_NO_FATAL_FAILURE(
      Serve({.max_streams_per_connection = 100, .max_threads = 8}));
  std::vector<Watch>& watches = Watches(20);
  for (Watch& watch : watches) {
    StartWatch(&watch);
    watch.reader->Finish(&watch.status, &watch);
  }
  int answered = 0;
  int refused = 0;
  bool ok = false;
  while (void* tag = Next(absl::Seconds(2), &ok)) {
    for (Watch& watch : watches) {
      if (tag == &watch.response && ok) ++answered;
      if (tag == &watch) {
        EXPECT_EQ(watch.status.error_code(),
                  grpc::StatusCode::RESOURCE_EXHAUSTED)
            << watch.status.error_message();
        ++refused;
      }
    }
  }
  EXPECT_GT(answered, 0);
  EXPECT_LT(answered, 8);
  EXPECT_EQ(answered + refused, 20);
  for (Watch& watch : watches) watch.context.TryCancel();
}

TEST_F(GrpcLimitsTest, IdleConnectionsAreClosed) {
  ASSERT_NO_FATAL_FAILURE(
      Serve({.max_connection_idle = absl::Milliseconds(300)}));
  HealthCheckResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->Check(&context, HealthCheckRequest(), &response).ok());
  ASSERT_EQ(channel_->GetState(false), GRPC_CHANNEL_READY);
  EXPECT_TRUE(Eventually(
      [&] { return channel_->GetState(false) != GRPC_CHANNEL_READY; },
      absl::Seconds(3)));
}

TEST_F(GrpcLimitsTest, OldConnectionsAreEndedAfterTheirGrace) {
  ASSERT_NO_FATAL_FAILURE(
      Serve({.max_connection_age = absl::Milliseconds(300),
             .max_connection_age_grace = absl::Milliseconds(300)}));
  Watch& watch = Watches(1).front();
  StartWatch(&watch);
  ASSERT_EQ(Next(absl::Seconds(5)), &watch.response);
  watch.reader->Finish(&watch.status, &watch);
  ASSERT_EQ(Next(absl::Seconds(5)), &watch);
  EXPECT_EQ(watch.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << watch.status.error_message();
}

TEST_F(GrpcLimitsTest, ClientsPingingTooOftenAreDisconnected) {
  ASSERT_NO_FATAL_FAILURE(Serve(
      {.min_client_ping_interval = absl::Seconds(10), .max_ping_strikes = 1}));
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 50);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  arguments.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  stub_ = grpc::health::v1::Health::NewStub(
      grpc::CreateCustomChannel(serving_->addresses().front(),
                                grpc::InsecureChannelCredentials(), arguments));
  Watch& watch = Watches(1).front();
  StartWatch(&watch);
  ASSERT_EQ(Next(absl::Seconds(5)), &watch.response);
  watch.reader->Finish(&watch.status, &watch);
  ASSERT_EQ(Next(absl::Seconds(10)), &watch);
  EXPECT_EQ(watch.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << watch.status.error_message();
}

}  // namespace
}  // namespace dtrust
