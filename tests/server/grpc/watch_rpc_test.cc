// DirectTrust.Watch against the real dtrustd over a real slapd (issue 14
// §2), with a raw gRPC client.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::DtrustdProcess;
using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::SlapdFixture;
using ::dtrust::testing::TestCert;
using ::testing::HasSubstr;

// One Watch stream with a deadline of its own.
struct WatchCall {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> reader;

  WatchCall(v1::DirectTrust::Stub& stub, uint64_t epoch, uint64_t version) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    v1::WatchRequest request;
    request.set_resume_epoch(epoch);
    request.set_resume_version(version);
    reader = stub.Watch(&context, request);
  }
  // The next event that is not freshness; nullopt when the stream ended.
  std::optional<v1::WatchEvent> NextData() {
    v1::WatchEvent event;
    while (reader->Read(&event)) {
      if (!event.has_freshness()) return event;
    }
    return std::nullopt;
  }
};

class WatchRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
    ASSERT_TRUE(slapd.ok()) << slapd.status();
    slapd_ = *std::move(slapd);
  }

  void StartDtrustd(const std::vector<std::string>& args = {}) {
    absl::StatusOr<std::unique_ptr<DtrustdProcess>> process =
        DtrustdProcess::StartWithLdap(*slapd_, args);
    ASSERT_TRUE(process.ok()) << process.status();
    dtrustd_ = *std::move(process);
    // This process's uid is admin over the unix socket.
    stub_ = v1::DirectTrust::NewStub(grpc::CreateChannel(
        dtrustd_->endpoint(), grpc::InsecureChannelCredentials()));
  }

  void Publish(const std::string& server, const TestCert& cert) {
    v1::PublishRequest request;
    request.set_server(server);
    request.add_domains("org-b.example");
    request.set_certificate_der(cert.der);
    grpc::ClientContext context;
    v1::PublishResponse response;
    const grpc::Status status = stub_->Publish(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  void Unpublish(const std::string& server, const TestCert& cert) {
    v1::UnpublishRequest request;
    request.set_server(server);
    request.set_certificate_der(cert.der);
    grpc::ClientContext context;
    v1::UnpublishResponse response;
    ASSERT_TRUE(stub_->Unpublish(&context, request, &response).ok());
  }

  void EnforceSending(const std::string& domain) {
    v1::SetDomainPolicyRequest request;
    request.set_domain(domain);
    request.set_send(v1::SECURE_MODE_ENFORCE);
    grpc::ClientContext context;
    v1::DomainPolicy response;
    ASSERT_TRUE(stub_->SetDomainPolicy(&context, request, &response).ok());
  }

  std::unique_ptr<SlapdFixture> slapd_;
  std::unique_ptr<DtrustdProcess> dtrustd_;
  std::unique_ptr<v1::DirectTrust::Stub> stub_;
};

TEST_F(WatchRpcTest, SnapshotChangesAndResume) {
  StartDtrustd();
  const TestCert first = MakeTestCert();
  Publish("mx1.org-b.example", first);

  auto watch = std::make_unique<WatchCall>(*stub_, 0, 0);
  v1::WatchEvent event;
  ASSERT_TRUE(watch->reader->Read(&event));
  ASSERT_TRUE(event.has_snapshot()) << event.DebugString();
  const uint64_t epoch = event.snapshot().epoch();
  uint64_t version = event.snapshot().version();
  EXPECT_NE(epoch, 0u);
  EXPECT_TRUE(event.snapshot().last());
  ASSERT_EQ(event.snapshot().servers_size(), 1);
  EXPECT_EQ(event.snapshot().servers(0).name(), "mx1.org-b.example");
  ASSERT_EQ(event.snapshot().servers(0).pins_size(), 1);
  EXPECT_TRUE(event.snapshot().servers(0).pins(0).certificate_der().empty());
  ASSERT_TRUE(watch->reader->Read(&event));
  ASSERT_TRUE(event.has_freshness()) << event.DebugString();
  EXPECT_TRUE(event.freshness().serving());
  EXPECT_EQ(event.freshness().max_staleness().seconds(), 300);

  // Publish, unpublish, a domain policy: changes, versions consecutive (the
  // local write and the directory's notification may each append).
  const TestCert second = MakeTestCert();
  Publish("mx2.org-b.example", second);
  std::optional<v1::WatchEvent> change = watch->NextData();
  ASSERT_TRUE(change && change->has_change());
  EXPECT_EQ(change->change().epoch(), epoch);
  EXPECT_EQ(change->change().version(), ++version);
  EXPECT_EQ(change->change().server().name(), "mx2.org-b.example");
  const uint64_t after_publish = version;

  Unpublish("mx1.org-b.example", first);
  EnforceSending("org-b.example");
  bool unpublished = false;
  do {
    change = watch->NextData();
    ASSERT_TRUE(change && change->has_change());
    EXPECT_EQ(change->change().version(), ++version);
    if (change->change().server().name() == "mx1.org-b.example" &&
        change->change().server().pins().empty()) {
      unpublished = true;
    }
    if (change->change().server_removed() == "mx1.org-b.example") {
      unpublished = true;
    }
  } while (!change->change().has_domain_policy());
  EXPECT_TRUE(unpublished);
  EXPECT_EQ(change->change().domain_policy().send(), v1::SECURE_MODE_ENFORCE);
  watch->context.TryCancel();
  watch.reset();

  // Resuming gets only what came after.
  WatchCall resumed(*stub_, epoch, after_publish);
  change = resumed.NextData();
  ASSERT_TRUE(change && change->has_change()) << change->DebugString();
  EXPECT_EQ(change->change().version(), after_publish + 1);
  resumed.context.TryCancel();

  // Another epoch (another dtrustd, a full reload): a new snapshot.
  WatchCall foreign(*stub_, epoch + 1, after_publish);
  change = foreign.NextData();
  ASSERT_TRUE(change && change->has_snapshot());
  EXPECT_EQ(change->snapshot().epoch(), epoch);
  foreign.context.TryCancel();
}

TEST_F(WatchRpcTest, WatcherLimitAndStop) {
  StartDtrustd({"--watch-max-watchers", "1"});
  WatchCall first(*stub_, 0, 0);
  ASSERT_TRUE(first.NextData().has_value());
  WatchCall second(*stub_, 0, 0);
  v1::WatchEvent event;
  EXPECT_FALSE(second.reader->Read(&event));
  const grpc::Status refused = second.reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("--watch-max-watchers"));

  // dtrustd stops: the stream ends at once, not after the grace period.
  const absl::Time start = absl::Now();
  std::thread stop([this] { EXPECT_TRUE(dtrustd_->Stop().ok()); });
  EXPECT_FALSE(first.NextData().has_value());
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  stop.join();
}

TEST_F(WatchRpcTest, WithoutAMirrorFailedPreconditionNamingTheFlag) {
  StartDtrustd({"--directory-sync", "none"});
  WatchCall watch(*stub_, 0, 0);
  v1::WatchEvent event;
  EXPECT_FALSE(watch.reader->Read(&event));
  const grpc::Status status = watch.reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("--directory-sync"));
}

TEST_F(WatchRpcTest, NeedsTheReaderRole) {
  StartDtrustd({"--anonymous", "none", "--listen", "127.0.0.1:0"});
  const std::string log = dtrustd_->Log();
  const size_t at = log.find("127.0.0.1:", log.find("dtrustd ready"));
  ASSERT_NE(at, std::string::npos) << log;
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      log.substr(at + 10,
                 log.find_first_not_of("0123456789", at + 10) - at - 10),
      &port))
      << log;
  auto anonymous = v1::DirectTrust::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  WatchCall watch(*anonymous, 0, 0);
  v1::WatchEvent event;
  EXPECT_FALSE(watch.reader->Read(&event));
  const grpc::StatusCode refused = watch.reader->Finish().error_code();
  EXPECT_TRUE(refused == grpc::StatusCode::PERMISSION_DENIED ||
              refused == grpc::StatusCode::UNAUTHENTICATED)
      << refused;
}

}  // namespace
}  // namespace dtrust
