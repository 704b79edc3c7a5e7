// TrustService: proof of possession when publishing, provenance of pins and
// --require-proof-for.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "server/core/trust_service.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_directory.h"
#include "tests/testing/possession_signer.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::SignWithKey;
using ::dtrust::testing::TestCert;
using ::testing::HasSubstr;

constexpr char kMx1[] = "mx1.org-b.example";
constexpr char kOrgB[] = "org-b.example";
constexpr char kPartnerMx[] = "mx1.org-a.example";
constexpr char kPartner[] = "org-a.example";
constexpr char kPeer[] = "ipv4:127.0.0.1:40000";

class PublishProvenanceTest : public ::testing::Test {
 protected:
  explicit PublishProvenanceTest(std::vector<std::string> own_domains = {})
      : service_(&directory_, &clock_,
                 {.require_proof_for = std::move(own_domains)}) {}

  // A request to publish `cert` for `server` serving `domains`, from kPeer.
  static PublishRequest Request(const TestCert& cert,
                                const std::string& server = kMx1,
                                std::vector<std::string> domains = {kOrgB}) {
    return {.server = server,
            .domains = std::move(domains),
            .certificate_der = cert.der,
            .publisher = kPeer};
  }
  // `request` with a proof of possession made with `key_pem`.
  PublishRequest Proven(PublishRequest request, const std::string& key_pem) {
    const Sha256Digest sha256 =
        Certificate::FromDer(request.certificate_der)->sha256();
    absl::StatusOr<PossessionChallenge> challenge =
        service_.PublishChallenge(request.server, sha256);
    EXPECT_TRUE(challenge.ok()) << challenge.status();
    request.challenge = challenge->bytes;
    request.possession_signature = SignWithKey(
        key_pem, PossessionMessage(challenge->bytes, TermsOf(request)));
    return request;
  }
  // What the CLI signs for `request` (names normalized).
  static PossessionTerms TermsOf(const PublishRequest& request) {
    return *MakePossessionTerms(
        request.server, request.domains, request.kind, request.window,
        Certificate::FromDer(request.certificate_der)->sha256());
  }

  testing::FakeDirectory directory_;
  testing::FakeClock clock_;
  TrustService service_;
  const TestCert cert_ = MakeTestCert({.common_name = kMx1});
};

TEST_F(PublishProvenanceTest, WithoutProofThePinIsAssertedByThePublisher) {
  absl::StatusOr<PublishResult> result = service_.Publish(Request(cert_));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->pin.provenance, PinProvenance::kAsserted);
  EXPECT_EQ(result->pin.publisher, kPeer);

  absl::StatusOr<VerifyResult> verified =
      service_.Verify({.certificate_der = cert_.der});
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->verdict, Verdict::kTrusted);
  EXPECT_EQ(verified->provenance, PinProvenance::kAsserted);
  EXPECT_EQ(verified->publisher, kPeer);
}

TEST_F(PublishProvenanceTest, WithProofThePinIsPossessionProven) {
  absl::StatusOr<PublishResult> result =
      service_.Publish(Proven(Request(cert_), cert_.key_pem));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, PublishResult::Outcome::kPublished);
  EXPECT_EQ(result->pin.provenance, PinProvenance::kPossessionProven);
  EXPECT_EQ(result->pin.publisher, kPeer);
  absl::StatusOr<VerifyResult> verified =
      service_.Verify({.certificate_der = cert_.der});
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->provenance, PinProvenance::kPossessionProven);
}

TEST_F(PublishProvenanceTest, ChallengesNormalizeTheServerName) {
  // The CLI normalizes too (MakePossessionTerms), so a challenge for
  // "MX1.Org-B.example." is one for mx1.org-b.example.
  PublishRequest request =
      Proven(Request(cert_, "MX1.Org-B.example."), cert_.key_pem);
  PossessionTerms raw = TermsOf(request);
  raw.server = request.server;
  request.possession_signature =
      SignWithKey(cert_.key_pem, PossessionMessage(request.challenge, raw));
  EXPECT_FALSE(service_.Publish(request).ok());  // Signed the raw name.
  request = Proven(Request(cert_, "MX1.Org-B.example."), cert_.key_pem);
  EXPECT_TRUE(service_.Publish(request).ok());
  const Sha256Digest sha256 = Certificate::FromDer(cert_.der)->sha256();
  EXPECT_TRUE(absl::IsInvalidArgument(
      service_.PublishChallenge("mx1 org-b", sha256).status()));
}

TEST_F(PublishProvenanceTest, AnInvalidProofWritesNothing) {
  const TestCert other = MakeTestCert();
  const absl::Status wrong_key =
      service_.Publish(Proven(Request(cert_), other.key_pem)).status();
  EXPECT_TRUE(absl::IsInvalidArgument(wrong_key));
  EXPECT_THAT(wrong_key.message(), HasSubstr("proof of possession refused"));

  PublishRequest half = Proven(Request(cert_), cert_.key_pem);
  half.possession_signature.clear();
  EXPECT_THAT(service_.Publish(half).status().message(),
              HasSubstr("needs both the challenge and the signature"));

  // A challenge for another certificate, signed by its holder.
  PublishRequest swapped = Proven(Request(other), other.key_pem);
  swapped.certificate_der = cert_.der;
  EXPECT_TRUE(absl::IsInvalidArgument(service_.Publish(swapped).status()));

  PublishRequest expired = Proven(Request(cert_), cert_.key_pem);
  clock_.Set(clock_.Now() + kChallengeLifetime + absl::Seconds(1));
  EXPECT_THAT(service_.Publish(expired).status().message(),
              HasSubstr("expired"));
  EXPECT_EQ(directory_.writes(), 0);
}

TEST_F(PublishProvenanceTest, AProofUpgradesAnAssertedPin) {
  ASSERT_TRUE(service_.Publish(Request(cert_)).ok());
  absl::StatusOr<PublishResult> upgraded =
      service_.Publish(Proven(Request(cert_), cert_.key_pem));
  ASSERT_TRUE(upgraded.ok()) << upgraded.status();
  EXPECT_EQ(upgraded->outcome, PublishResult::Outcome::kPinUpdated);
  EXPECT_EQ(upgraded->pin.provenance, PinProvenance::kPossessionProven);
  ASSERT_TRUE(upgraded->previous.has_value());
  EXPECT_EQ(upgraded->previous->provenance, PinProvenance::kAsserted);

  // Proving again changes nothing.
  absl::StatusOr<PublishResult> again =
      service_.Publish(Proven(Request(cert_), cert_.key_pem));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, PublishResult::Outcome::kAlreadyPublished);
}

TEST_F(PublishProvenanceTest, RepublishingWithoutProofNeverKeepsTheProof) {
  ASSERT_TRUE(service_.Publish(Proven(Request(cert_), cert_.key_pem)).ok());
  // Nothing to change: nothing written, the proof and its publisher stay.
  PublishRequest same = Request(cert_);
  same.publisher = "someone else";
  absl::StatusOr<PublishResult> again = service_.Publish(same);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, PublishResult::Outcome::kAlreadyPublished);
  EXPECT_EQ(again->pin.provenance, PinProvenance::kPossessionProven);
  EXPECT_EQ(again->pin.publisher, kPeer);

  // A change without proof is asserted by whoever made it.
  PublishRequest key_pin = Request(cert_);
  key_pin.kind = PinKind::kPublicKey;
  key_pin.publisher = "someone else";
  absl::StatusOr<PublishResult> changed = service_.Publish(key_pin);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->outcome, PublishResult::Outcome::kPinUpdated);
  EXPECT_EQ(changed->pin.provenance, PinProvenance::kAsserted);
  EXPECT_EQ(changed->pin.publisher, "someone else");
  EXPECT_EQ(changed->previous->provenance, PinProvenance::kPossessionProven);
}

TEST_F(PublishProvenanceTest, AProofCoversItsRequestOnlyAndOnce) {
  PublishRequest request = Proven(Request(cert_), cert_.key_pem);
  ASSERT_TRUE(service_.Publish(request).ok());
  // Replayed: refused, even though the signature is valid.
  PublishRequest replay = request;
  replay.kind = PinKind::kPublicKey;  // Something to write, were it allowed.
  replay.possession_signature = SignWithKey(
      cert_.key_pem, PossessionMessage(replay.challenge, TermsOf(replay)));
  const absl::Status replayed = service_.Publish(replay).status();
  EXPECT_TRUE(absl::IsInvalidArgument(replayed));
  EXPECT_THAT(replayed.message(), HasSubstr("already used"));
  // A fresh proof for one request does not cover another domain.
  PublishRequest other_domain = Proven(Request(cert_), cert_.key_pem);
  other_domain.domains = {kPartner};
  EXPECT_THAT(service_.Publish(other_domain).status().message(),
              HasSubstr("does not verify"));
}

class RequireProofTest : public PublishProvenanceTest {
 protected:
  RequireProofTest() : PublishProvenanceTest({kOrgB}) {}
};

TEST_F(RequireProofTest, OwnServersNeedProof) {
  const absl::Status refused = service_.Publish(Request(cert_)).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(refused));
  EXPECT_THAT(refused.message(), HasSubstr("server mx1.org-b.example is in "
                                           "org-b.example"));
  EXPECT_THAT(refused.message(), HasSubstr("proof of possession"));
  EXPECT_EQ(directory_.writes(), 0);

  absl::StatusOr<PublishResult> proven =
      service_.Publish(Proven(Request(cert_), cert_.key_pem));
  ASSERT_TRUE(proven.ok()) << proven.status();
  EXPECT_EQ(proven->pin.provenance, PinProvenance::kPossessionProven);
}

TEST_F(RequireProofTest, ServersServingOwnMailDomainsNeedProof) {
  // A server named elsewhere, serving a subdomain of the own domain.
  const absl::Status refused =
      service_
          .Publish(
              Request(cert_, "relay.hoster.example", {"lists.org-b.example"}))
          .status();
  EXPECT_TRUE(absl::IsFailedPrecondition(refused));
  EXPECT_THAT(refused.message(),
              HasSubstr("serves mail domain lists.org-b.example, part of "
                        "org-b.example"));
  // "xorg-b.example" is not below org-b.example.
  EXPECT_TRUE(
      service_.Publish(Request(cert_, "mx1.xorg-b.example", {"xorg-b.example"}))
          .ok());
}

TEST_F(RequireProofTest, TheDomainsAServerHasCount) {
  // The server already serves org-b.example: adding a certificate that
  // names only another domain still needs proof.
  ASSERT_TRUE(
      service_
          .Publish(Proven(Request(cert_, "relay.hoster.example", {kOrgB}),
                          cert_.key_pem))
          .ok());
  const TestCert next = MakeTestCert();
  EXPECT_TRUE(absl::IsFailedPrecondition(
      service_.Publish(Request(next, "relay.hoster.example", {kPartner}))
          .status()));
}

TEST_F(RequireProofTest, PartnersCertificatesStayPublishableByAssertion) {
  const TestCert partner = MakeTestCert({.common_name = kPartnerMx});
  absl::StatusOr<PublishResult> result =
      service_.Publish(Request(partner, kPartnerMx, {kPartner}));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->pin.provenance, PinProvenance::kAsserted);
  EXPECT_EQ(result->pin.publisher, kPeer);
}

}  // namespace
}  // namespace dtrust
