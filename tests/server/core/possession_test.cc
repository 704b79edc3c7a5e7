#include "server/core/possession.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/possession_signer.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::SignWithKey;
using ::dtrust::testing::TestCert;
using ::testing::HasSubstr;

constexpr char kMx1[] = "mx1.org-b.example";
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

// The terms of publishing `certificate` for `server` (mail domain
// org-b.example, certificate pin, no window).
PossessionTerms Terms(const Certificate& certificate,
                      absl::string_view server = kMx1) {
  return *MakePossessionTerms(server, {"org-b.example"}, PinKind::kCertificate,
                              {}, certificate.sha256());
}

class PossessionTest : public ::testing::Test {
 protected:
  // A challenge for `cert` and kMx1 from `challenges_`.
  std::string Challenge(const Certificate& certificate) {
    absl::StatusOr<PossessionChallenge> challenge =
        challenges_.Issue(kMx1, certificate.sha256());
    EXPECT_TRUE(challenge.ok()) << challenge.status();
    return challenge.ok() ? challenge->bytes : "";
  }
  // The signature the key holder of `cert` makes for `challenge`.
  static std::string Sign(const TestCert& cert, const std::string& challenge,
                          absl::string_view server = kMx1) {
    return SignWithKey(
        cert.key_pem,
        PossessionMessage(challenge,
                          Terms(*Certificate::FromDer(cert.der), server)));
  }

  testing::FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  PossessionChallenges challenges_{&clock_, kSecret};
  TestCert cert_ = MakeTestCert();
  Certificate certificate_ = *Certificate::FromDer(cert_.der);
};

TEST_F(PossessionTest, TheKeyHolderProvesPossession) {
  const std::string challenge = Challenge(certificate_);
  EXPECT_TRUE(challenges_
                  .Verify(challenge, Terms(certificate_), certificate_,
                          Sign(cert_, challenge))
                  .ok());
}

TEST_F(PossessionTest, RsaKeysWork) {
  const TestCert rsa = MakeTestCert({.key_pem = testing::RsaKeyPem()});
  const Certificate certificate = *Certificate::FromDer(rsa.der);
  const std::string challenge = Challenge(certificate);
  EXPECT_TRUE(challenges_
                  .Verify(challenge, Terms(certificate), certificate,
                          Sign(rsa, challenge))
                  .ok());
}

TEST_F(PossessionTest, ChallengesExpireAfterFiveMinutes) {
  absl::StatusOr<PossessionChallenge> challenge =
      challenges_.Issue(kMx1, certificate_.sha256());
  ASSERT_TRUE(challenge.ok());
  EXPECT_EQ(challenge->expires, clock_.Now() + kChallengeLifetime);
  const std::string signature = Sign(cert_, challenge->bytes);

  clock_.Set(challenge->expires + absl::Seconds(1));
  const absl::Status expired = challenges_.Verify(
      challenge->bytes, Terms(certificate_), certificate_, signature);
  EXPECT_TRUE(absl::IsInvalidArgument(expired));
  EXPECT_THAT(expired.message(), HasSubstr("expired at"));
}

TEST_F(PossessionTest, AChallengeIsBoundToItsServer) {
  const std::string challenge = Challenge(certificate_);
  // Signed for the other server too: the challenge itself does not fit.
  const absl::Status status = challenges_.Verify(
      challenge, Terms(certificate_, "mx2.org-b.example"), certificate_,
      Sign(cert_, challenge, "mx2.org-b.example"));
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("not issued by this dtrustd"));
}

TEST_F(PossessionTest, AChallengeIsBoundToItsCertificate) {
  const TestCert other = MakeTestCert();
  const Certificate other_certificate = *Certificate::FromDer(other.der);
  const std::string challenge = Challenge(certificate_);
  const absl::Status status =
      challenges_.Verify(challenge, Terms(other_certificate), other_certificate,
                         Sign(other, challenge));
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("not issued by this dtrustd"));
}

TEST_F(PossessionTest, AlteredChallengesAreRefused) {
  const std::string challenge = Challenge(certificate_);
  for (size_t i = 0; i < challenge.size(); ++i) {
    std::string altered = challenge;
    altered[i] ^= 0x01;
    EXPECT_TRUE(absl::IsInvalidArgument(challenges_.Verify(
        altered, Terms(certificate_), certificate_, Sign(cert_, altered))))
        << "byte " << i;
  }
  EXPECT_THAT(challenges_
                  .Verify(challenge.substr(1), Terms(certificate_),
                          certificate_, Sign(cert_, challenge.substr(1)))
                  .message(),
              HasSubstr("not one dtrustd issues"));
  EXPECT_FALSE(
      challenges_.Verify("", Terms(certificate_), certificate_, "x").ok());
}

TEST_F(PossessionTest, ChallengesOfAnotherSecretAreRefused) {
  // Another dtrustd process, or this one before a restart.
  PossessionChallenges other(&clock_, "another secret, 32 bytes long..");
  absl::StatusOr<PossessionChallenge> challenge =
      other.Issue(kMx1, certificate_.sha256());
  ASSERT_TRUE(challenge.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(
      challenges_.Verify(challenge->bytes, Terms(certificate_), certificate_,
                         Sign(cert_, challenge->bytes))));
  // Two objects with random secrets do not accept each other's either.
  PossessionChallenges random1(&clock_), random2(&clock_);
  challenge = random1.Issue(kMx1, certificate_.sha256());
  ASSERT_TRUE(challenge.ok());
  const std::string signature = Sign(cert_, challenge->bytes);
  EXPECT_TRUE(random1
                  .Verify(challenge->bytes, Terms(certificate_), certificate_,
                          signature)
                  .ok());
  EXPECT_FALSE(random2
                   .Verify(challenge->bytes, Terms(certificate_), certificate_,
                           signature)
                   .ok());
}

TEST_F(PossessionTest, ChallengesAreFresh) {
  EXPECT_NE(Challenge(certificate_), Challenge(certificate_));
}

TEST_F(PossessionTest, SignaturesOfAnotherKeyAreRefused) {
  const TestCert other = MakeTestCert();
  const std::string challenge = Challenge(certificate_);
  const absl::Status status = challenges_.Verify(
      challenge, Terms(certificate_), certificate_,
      SignWithKey(other.key_pem,
                  PossessionMessage(challenge, Terms(certificate_))));
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("does not verify"));
  EXPECT_THAT(status.message(), HasSubstr(certificate_.sha256().ToColonHex()));
}

TEST_F(PossessionTest, SignaturesOfAnotherMessageAreRefused) {
  const std::string challenge = Challenge(certificate_);
  // The bare challenge, without the domain separation and binding.
  EXPECT_TRUE(absl::IsInvalidArgument(
      challenges_.Verify(challenge, Terms(certificate_), certificate_,
                         SignWithKey(cert_.key_pem, challenge))));
  EXPECT_TRUE(absl::IsInvalidArgument(challenges_.Verify(
      challenge, Terms(certificate_), certificate_, "not a signature")));
}

TEST_F(PossessionTest, AChallengeProvesOnePublish) {
  const std::string challenge = Challenge(certificate_);
  const std::string signature = Sign(cert_, challenge);
  EXPECT_TRUE(
      challenges_
          .Verify(challenge, Terms(certificate_), certificate_, signature)
          .ok());
  const absl::Status replay = challenges_.Verify(challenge, Terms(certificate_),
                                                 certificate_, signature);
  EXPECT_TRUE(absl::IsInvalidArgument(replay));
  EXPECT_THAT(replay.message(), HasSubstr("already used"));
}

TEST_F(PossessionTest, ASignatureCoversTheWholeRequest) {
  const std::string challenge = Challenge(certificate_);
  const std::string signature = Sign(cert_, challenge);
  const Sha256Digest sha256 = certificate_.sha256();
  for (const PossessionTerms& other :
       {*MakePossessionTerms(kMx1, {"org-c.example"}, PinKind::kCertificate, {},
                             sha256),
        *MakePossessionTerms(kMx1, {"org-b.example", "org-c.example"},
                             PinKind::kCertificate, {}, sha256),
        *MakePossessionTerms(kMx1, {"org-b.example"}, PinKind::kPublicKey, {},
                             sha256),
        *MakePossessionTerms(kMx1, {"org-b.example"}, PinKind::kCertificate,
                             {.not_after = absl::FromUnixSeconds(1)},
                             sha256)}) {
    const absl::Status status =
        challenges_.Verify(challenge, other, certificate_, signature);
    EXPECT_TRUE(absl::IsInvalidArgument(status));
    EXPECT_THAT(status.message(), HasSubstr("does not verify"));
  }
  // Unused by the refused attempts.
  EXPECT_TRUE(
      challenges_
          .Verify(challenge, Terms(certificate_), certificate_, signature)
          .ok());
}

TEST(PossessionMessageTest, BindsEveryTerm) {
  const PossessionTerms terms = *MakePossessionTerms(
      "MX1.org-b.example.", {"b.example", "a.example", "a.example"},
      PinKind::kCertificate, {}, Sha256Digest::Of("a"));
  EXPECT_EQ(terms.server, kMx1);
  EXPECT_EQ(terms.domains,
            (std::vector<std::string>{"a.example", "b.example"}));
  const std::string message = PossessionMessage("challenge", terms);
  EXPECT_EQ(message.substr(0, 21), std::string("dtrust-possession-v2\0", 21));
  EXPECT_NE(message, PossessionMessage("challengE", terms));
  PossessionTerms changed = terms;
  changed.server = "mx2.org-b.example";
  EXPECT_NE(message, PossessionMessage("challenge", changed));
  changed = terms;
  changed.cert_sha256 = Sha256Digest::Of("b");
  EXPECT_NE(message, PossessionMessage("challenge", changed));
  changed = terms;
  changed.domains = {"a.example,b.example"};  // Not the same as two domains.
  EXPECT_NE(message, PossessionMessage("challenge", changed));
  changed = terms;
  changed.window.not_before = absl::FromUnixSeconds(0);
  EXPECT_NE(message, PossessionMessage("challenge", changed));
  EXPECT_FALSE(MakePossessionTerms("bad name", {}, PinKind::kCertificate, {},
                                   Sha256Digest::Of("a"))
                   .ok());
}

}  // namespace
}  // namespace dtrust
