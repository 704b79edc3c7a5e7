// Scale-out on the directory's own replication: two dtrustd replicas, each
// following a different provider of a two-provider OpenLDAP multi-provider
// pair (real slapds, real dtrustd binaries, gRPC over unix sockets).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/core/digest.h"
#include "server/core/log.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/eventually.h"
#include "tests/testing/replicated_slapd.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::DtrustdProcess;
using ::dtrust::testing::Eventually;
using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::ReplicatedSlapdPair;
using ::dtrust::testing::TestCert;

constexpr char kServer[] = "mx1.org-b.example";
constexpr char kDomain[] = "org-b.example";
// How soon a change made through one replica must be answered by the other.
constexpr absl::Duration kFreshnessBound = absl::Seconds(3);

// A dtrustd replica and a gRPC stub for it.
struct Replica {
  std::unique_ptr<DtrustdProcess> process;
  std::unique_ptr<v1::DirectTrust::Stub> stub;

  grpc::Status Publish(const TestCert& cert) {
    v1::PublishRequest request;
    request.set_server(kServer);
    request.add_domains(kDomain);
    request.set_certificate_der(cert.der);
    v1::PublishResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    return stub->Publish(&context, request, &response);
  }
  v1::Verdict Verify(const TestCert& cert) {
    v1::VerifyRequest request;
    request.set_certificate_der(cert.der);
    v1::VerifyResponse response;
    grpc::ClientContext context;
    if (!stub->Verify(&context, request, &response).ok()) {
      return v1::VERDICT_UNSPECIFIED;
    }
    return response.verdict();
  }
  v1::ServiceStatus Status() {
    v1::ServiceStatus status;
    grpc::ClientContext context;
    stub->GetStatus(&context, v1::GetStatusRequest(), &status).ok();
    return status;
  }
};

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ReplicatedSlapdPair>> pair =
        ReplicatedSlapdPair::Start();
    ASSERT_TRUE(pair.ok()) << pair.status();
    pair_ = *std::move(pair);
    // Replica i follows provider i and fails over to the other one.
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<std::unique_ptr<DtrustdProcess>> process =
          DtrustdProcess::Start(
              {"--ldap-uri", pair_->provider(i).uri(), "--ldap-uri",
               pair_->provider(1 - i).uri(), "--base-dn", pair_->suffix(),
               "--bind-dn", pair_->bind_dn(), "--bind-password-file",
               pair_->bind_password_file(), "--ldap-timeout", "1s"});
      ASSERT_TRUE(process.ok()) << process.status();
      replicas_[i].stub = v1::DirectTrust::NewStub(grpc::CreateChannel(
          (*process)->endpoint(), grpc::InsecureChannelCredentials()));
      replicas_[i].process = *std::move(process);
      ASSERT_TRUE(Eventually([&] { return replicas_[i].Status().serving(); },
                             absl::Seconds(10)));
    }
  }

  // Whether `cert` is stored on provider `i`.
  bool StoredOn(int i, const TestCert& cert) {
    absl::StatusOr<std::string> ldif = pair_->provider(i).LdapSearch(
        pair_->suffix(),
        absl::StrCat("(dtrustCertSha256=", Sha256Digest::Of(cert.der).ToHex(),
                     ")"),
        {"dn"});
    return ldif.ok() && ldif->find("dn: ") != std::string::npos;
  }

  std::unique_ptr<ReplicatedSlapdPair> pair_;
  Replica replicas_[2];
};

TEST_F(ScaleOutTest, APublishThroughOneReplicaIsAnsweredByTheOther) {
  for (int from = 0; from < 2; ++from) {
    const TestCert cert = MakeTestCert({.common_name = kServer});
    ASSERT_TRUE(replicas_[from].Publish(cert).ok());
    // The writer answers from its own write at once...
    EXPECT_EQ(replicas_[from].Verify(cert), v1::TRUSTED);
    // ...the other replica once the providers replicated and pushed it.
    const absl::Time published = absl::Now();
    EXPECT_TRUE(Eventually(
        [&] { return replicas_[1 - from].Verify(cert) == v1::TRUSTED; },
        kFreshnessBound))
        << "published through replica " << from;
    LogInfo("published through replica ", from,
            ", answered by the other after ",
            absl::FormatDuration(absl::Now() - published));
  }
}

TEST_F(ScaleOutTest, EveryAcknowledgedPublishSurvivesAProviderOutage) {
  std::vector<TestCert> acknowledged;
  int refused = 0;
  for (int n = 0; n < 40; ++n) {
    if (n == 15) {
      ASSERT_TRUE(pair_->Stop(1).ok());  // Mid-stream.
    }
    const TestCert cert = MakeTestCert({.common_name = kServer});
    // Alternate: replica 1 is the one on the stopped provider.
    if (replicas_[n % 2].Publish(cert).ok()) {
      acknowledged.push_back(cert);
    } else {
      ++refused;  // Not acknowledged: may or may not be stored.
    }
  }
  // Replica 1 failed over to provider 0 and follows it.
  EXPECT_TRUE(Eventually(
      [&] {
        const v1::ServiceStatus status = replicas_[1].Status();
        return status.serving() && status.connected() &&
               status.directory_uri() == pair_->provider(0).uri();
      },
      absl::Seconds(10)))
      << replicas_[1].Status().DebugString();
  // Replica 1's writes fail over too (its pool reconnects to provider 0);
  // at most the writes in flight when provider 1 stopped are refused.
  EXPECT_GE(acknowledged.size(), 30u) << refused << " refused";
  LogInfo(acknowledged.size(), " publishes acknowledged, ", refused,
          " refused during the outage");

  ASSERT_TRUE(pair_->Restart(1).ok());
  for (const TestCert& cert : acknowledged) {
    for (int provider = 0; provider < 2; ++provider) {
      EXPECT_TRUE(Eventually([&] { return StoredOn(provider, cert); },
                             absl::Seconds(10)))
          << "acknowledged publish missing on provider " << provider;
    }
    for (Replica& replica : replicas_) {
      EXPECT_TRUE(
          Eventually([&] { return replica.Verify(cert) == v1::TRUSTED; },
                     kFreshnessBound));
    }
  }
}

}  // namespace
}  // namespace dtrust
