// End-to-end through a real gRPC server on a loopback port chosen by the
// kernel (port 0), over the core with a fake directory and with a real slapd.
#include "server/grpc/direct_trust_service.h"

#include <memory>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "server/ldap/ldap_directory.h"
#include "tests/server/grpc/grpc_harness.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_directory.h"
#include "tests/testing/possession_signer.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::GrpcHarness;
using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::TestCert;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::VerifyRequest VerifyCert(const TestCert& cert,
                             const std::string& domain = "") {
  v1::VerifyRequest request;
  request.set_certificate_der(cert.der);
  request.set_expected_domain(domain);
  return request;
}

class GrpcFakeDirectoryTest : public ::testing::Test {
 protected:
  testing::FakeDirectory directory_;
  GrpcHarness harness_{&directory_};
};

TEST_F(GrpcFakeDirectoryTest, PublishVerifyListUnpublish) {
  const TestCert mx1 = MakeTestCert();
  const Certificate parsed = *Certificate::FromDer(mx1.der);
  v1::PublishResponse published;
  ASSERT_TRUE(
      harness_.Publish(mx1, "mx1.org-b.example", "org-b.example", &published)
          .ok());
  EXPECT_EQ(published.outcome(), v1::PublishResponse::PUBLISHED);
  EXPECT_EQ(published.pin().sha256(), parsed.sha256().bytes());
  EXPECT_EQ(published.pin().spki_sha256(), parsed.spki_sha256().bytes());

  v1::PublishResponse again;
  ASSERT_TRUE(
      harness_.Publish(mx1, "mx1.org-b.example", "org-b.example", &again).ok());
  EXPECT_EQ(again.outcome(), v1::PublishResponse::ALREADY_PUBLISHED);

  v1::VerifyResponse verified;
  ASSERT_TRUE(harness_.Verify(VerifyCert(mx1), &verified).ok());
  EXPECT_EQ(verified.verdict(), v1::TRUSTED);
  EXPECT_EQ(verified.server(), "mx1.org-b.example");
  EXPECT_THAT(verified.domains(), ElementsAre("org-b.example"));
  EXPECT_EQ(verified.sha256(), parsed.sha256().bytes());
  EXPECT_EQ(verified.spki_sha256(), parsed.spki_sha256().bytes());
  EXPECT_EQ(verified.not_after().seconds(),
            absl::ToUnixSeconds(parsed.not_after()));
  EXPECT_EQ(verified.pin_kind(), v1::PIN_KIND_CERTIFICATE);

  ASSERT_TRUE(
      harness_.Verify(VerifyCert(mx1, "org-c.example"), &verified).ok());
  EXPECT_EQ(verified.verdict(), v1::WRONG_DOMAIN);

  v1::VerifyRequest by_fingerprint;
  by_fingerprint.set_sha256(std::string(parsed.sha256().bytes()));
  ASSERT_TRUE(harness_.Verify(by_fingerprint, &verified).ok());
  EXPECT_EQ(verified.verdict(), v1::TRUSTED);

  const std::vector<v1::ServerEntry> listed = harness_.List();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].pins(0).certificate_der(), "");  // Not asked for.
  v1::ListRequest with_certs;
  with_certs.set_include_certificates(true);
  EXPECT_EQ(harness_.List(with_certs)[0].pins(0).certificate_der(), mx1.der);

  v1::UnpublishRequest unpublish;
  unpublish.set_sha256(std::string(parsed.sha256().bytes()));
  v1::UnpublishResponse unpublished;
  grpc::ClientContext context;
  ASSERT_TRUE(
      harness_.stub().Unpublish(&context, unpublish, &unpublished).ok());
  EXPECT_THAT(unpublished.servers(), ElementsAre("mx1.org-b.example"));
  ASSERT_TRUE(harness_.Verify(VerifyCert(mx1), &verified).ok());
  EXPECT_EQ(verified.verdict(), v1::NOT_PUBLISHED);
  EXPECT_THAT(verified.reason(), HasSubstr(parsed.sha256().ToColonHex()));
}

TEST_F(GrpcFakeDirectoryTest, BadInputIsInvalidArgumentWithAMessage) {
  v1::PublishResponse response;
  grpc::Status bad_name = harness_.Publish(MakeTestCert(), "mx1*.example",
                                           "org-b.example", &response);
  EXPECT_EQ(bad_name.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad_name.error_message(), HasSubstr("server name"));

  v1::VerifyRequest bad_digest;
  bad_digest.set_sha256("short");
  v1::VerifyResponse verified;
  grpc::Status status = harness_.Verify(bad_digest, &verified);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("sha256"));

  v1::PublishRequest bad_kind;
  bad_kind.set_server("mx1.example");
  bad_kind.add_domains("example");
  bad_kind.set_certificate_der(MakeTestCert().der);
  bad_kind.set_pin_kind(static_cast<v1::PinKind>(7));
  grpc::ClientContext context;
  EXPECT_EQ(harness_.stub().Publish(&context, bad_kind, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(directory_.writes(), 0);

  v1::UnpublishRequest nothing_there;
  nothing_there.set_certificate_der(MakeTestCert().der);
  v1::UnpublishResponse unpublished;
  grpc::ClientContext unpublish_context;
  EXPECT_EQ(harness_.stub()
                .Unpublish(&unpublish_context, nothing_there, &unpublished)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcFakeDirectoryTest, PinWindowRoundTrip) {
  const TestCert cert = MakeTestCert();
  const int64_t start = absl::ToUnixSeconds(absl::Now()) + 3600;
  v1::PublishRequest request;
  request.set_server("mx1.org-b.example");
  request.add_domains("org-b.example");
  request.set_certificate_der(cert.der);
  request.mutable_pin_not_before()->set_seconds(start);
  request.mutable_pin_not_after()->set_seconds(start + 3600);
  request.mutable_pin_not_after()->set_nanos(500000000);
  v1::PublishResponse published;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(harness_.stub().Publish(&context, request, &published).ok());
  }
  EXPECT_EQ(published.outcome(), v1::PublishResponse::PUBLISHED);
  EXPECT_EQ(published.pin().pin_not_before().seconds(), start);
  EXPECT_EQ(published.pin().pin_not_after().nanos(), 500000000);
  EXPECT_FALSE(published.has_previous_pin());
  EXPECT_EQ(harness_.List()[0].pins(0).pin_not_after().seconds(), start + 3600);

  v1::VerifyResponse verified;
  ASSERT_TRUE(harness_.Verify(VerifyCert(cert), &verified).ok());
  EXPECT_EQ(verified.verdict(), v1::PIN_NOT_YET_ACTIVE);
  EXPECT_EQ(verified.pin_not_before().seconds(), start);
  EXPECT_EQ(verified.pin_not_after().seconds(), start + 3600);

  // A window that has ended; the old one comes back as previous_pin.
  request.mutable_pin_not_before()->set_seconds(start - 7200);
  request.mutable_pin_not_after()->set_seconds(start - 3601);
  {
    grpc::ClientContext context;
    ASSERT_TRUE(harness_.stub().Publish(&context, request, &published).ok());
  }
  EXPECT_EQ(published.outcome(), v1::PublishResponse::PIN_UPDATED);
  EXPECT_EQ(published.previous_pin().pin_not_before().seconds(), start);
  ASSERT_TRUE(harness_.Verify(VerifyCert(cert), &verified).ok());
  EXPECT_EQ(verified.verdict(), v1::PIN_EXPIRED);

  // Without a window, verify has none to report.
  request.clear_pin_not_before();
  request.clear_pin_not_after();
  {
    grpc::ClientContext context;
    ASSERT_TRUE(harness_.stub().Publish(&context, request, &published).ok());
  }
  ASSERT_TRUE(harness_.Verify(VerifyCert(cert), &verified).ok());
  EXPECT_EQ(verified.verdict(), v1::TRUSTED);
  EXPECT_FALSE(verified.has_pin_not_before());
  EXPECT_FALSE(verified.has_pin_not_after());
}

TEST_F(GrpcFakeDirectoryTest, ProofOfPossessionRoundTrip) {
  const TestCert cert = MakeTestCert();
  const Sha256Digest sha256 = Certificate::FromDer(cert.der)->sha256();
  v1::PublishChallengeRequest challenge_request;
  challenge_request.set_server("MX1.org-b.example");
  challenge_request.set_sha256(std::string(sha256.bytes()));
  v1::PublishChallenge challenge;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(
        harness_.stub()
            .GetPublishChallenge(&context, challenge_request, &challenge)
            .ok());
  }
  EXPECT_FALSE(challenge.challenge().empty());
  EXPECT_GT(challenge.expires().seconds(), absl::ToUnixSeconds(absl::Now()));

  v1::PublishRequest request;
  request.set_server("mx1.org-b.example");
  request.add_domains("org-b.example");
  request.set_certificate_der(cert.der);
  request.set_challenge(challenge.challenge());
  const PossessionTerms terms =
      *MakePossessionTerms("mx1.org-b.example", {"org-b.example"},
                           PinKind::kCertificate, {}, sha256);
  request.set_possession_signature(testing::SignWithKey(
      MakeTestCert().key_pem, PossessionMessage(challenge.challenge(), terms)));
  v1::PublishResponse published;
  {
    grpc::ClientContext context;
    const grpc::Status wrong_key =
        harness_.stub().Publish(&context, request, &published);
    EXPECT_EQ(wrong_key.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(wrong_key.error_message(), HasSubstr("does not verify"));
  }
  EXPECT_TRUE(harness_.List().empty());

  request.set_possession_signature(testing::SignWithKey(
      cert.key_pem, PossessionMessage(challenge.challenge(), terms)));
  {
    grpc::ClientContext context;
    ASSERT_TRUE(harness_.stub().Publish(&context, request, &published).ok());
  }
  EXPECT_EQ(published.pin().provenance(), v1::PIN_PROVENANCE_POSSESSION_PROVEN);
  EXPECT_EQ(published.pin().publisher(), "anonymous client");
  EXPECT_EQ(harness_.List()[0].pins(0).provenance(),
            v1::PIN_PROVENANCE_POSSESSION_PROVEN);
  v1::VerifyResponse verified;
  ASSERT_TRUE(harness_.Verify(VerifyCert(cert), &verified).ok());
  EXPECT_EQ(verified.provenance(), v1::PIN_PROVENANCE_POSSESSION_PROVEN);
  EXPECT_EQ(verified.publisher(), published.pin().publisher());

  // Without proof: asserted by the peer.
  const TestCert partner = MakeTestCert();
  ASSERT_TRUE(
      harness_
          .Publish(partner, "mx1.org-a.example", "org-a.example", &published)
          .ok());
  EXPECT_EQ(published.pin().provenance(), v1::PIN_PROVENANCE_ASSERTED);
  EXPECT_EQ(published.pin().publisher(), "anonymous client");

  challenge_request.set_sha256("short");
  grpc::ClientContext context;
  EXPECT_EQ(harness_.stub()
                .GetPublishChallenge(&context, challenge_request, &challenge)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GrpcFakeDirectoryTest, BadPinWindowIsInvalidArgument) {
  const TestCert cert = MakeTestCert();
  v1::PublishRequest request;
  request.set_server("mx1.org-b.example");
  request.add_domains("org-b.example");
  request.set_certificate_der(cert.der);
  request.mutable_pin_not_after()->set_nanos(-1);
  v1::PublishResponse response;
  grpc::ClientContext bad_timestamp;
  grpc::Status status =
      harness_.stub().Publish(&bad_timestamp, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("pin_not_after"));

  // Past the certificate's notAfter (a year from now).
  request.mutable_pin_not_after()->set_nanos(0);
  request.mutable_pin_not_after()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 400)));
  grpc::ClientContext outside;
  status = harness_.stub().Publish(&outside, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("outside the certificate's validity"));
  EXPECT_EQ(directory_.writes(), 0);
}

TEST_F(GrpcFakeDirectoryTest, DirectoryDownIsUnavailable) {
  directory_.SetUnavailable(true);
  v1::VerifyResponse verified;
  grpc::Status status = harness_.Verify(VerifyCert(MakeTestCert()), &verified);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(verified.verdict(), v1::VERDICT_UNSPECIFIED);
}

// The same service over the real LDAP adapter and a real slapd.
TEST(GrpcRealSlapdTest, PublishVerifyAndDirectoryOutage) {
  auto slapd = testing::SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  LdapOptions options;
  options.uris = {(*slapd)->uri()};
  options.base_dn = (*slapd)->suffix();
  options.bind_dn = (*slapd)->bind_dn();
  options.bind_password = (*slapd)->bind_password();
  options.timeout = absl::Seconds(2);
  auto directory = LdapDirectory::Connect(options);
  ASSERT_TRUE(directory.ok()) << directory.status();
  GrpcHarness harness(directory->get());

  const TestCert current = MakeTestCert();
  const TestCert next = MakeTestCert();
  v1::PublishResponse response;
  ASSERT_TRUE(
      harness.Publish(current, "mx1.org-b.example", "org-b.example", &response)
          .ok());
  ASSERT_TRUE(
      harness.Publish(next, "mx1.org-b.example", "org-b.example", &response)
          .ok());
  v1::VerifyResponse verified;
  for (const TestCert* cert : {&current, &next}) {
    ASSERT_TRUE(
        harness.Verify(VerifyCert(*cert, "org-b.example"), &verified).ok());
    EXPECT_EQ(verified.verdict(), v1::TRUSTED);
  }
  const std::string ldif = *(*slapd)->LdapSearch(
      "ou=servers," + (*slapd)->suffix(),
      "(objectClass=dtrustPinnedCertificate)",
      {"userCertificate;binary", "dtrustCertSha256", "dtrustSpkiSha256"});
  EXPECT_THAT(ldif, HasSubstr("userCertificate;binary:: "));
  EXPECT_THAT(ldif,
              HasSubstr(Certificate::FromDer(next.der)->sha256().ToHex()));

  ASSERT_TRUE((*slapd)->Stop().ok());
  grpc::Status down = harness.Verify(VerifyCert(current), &verified);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_TRUE((*slapd)->Restart().ok());
  grpc::Status back = harness.Verify(VerifyCert(current), &verified);
  EXPECT_TRUE(back.ok()) << back.error_message();
  EXPECT_EQ(verified.verdict(), v1::TRUSTED);
}

}  // namespace
}  // namespace dtrust
