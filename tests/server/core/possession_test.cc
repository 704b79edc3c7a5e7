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
        PossessionMessage(challenge, server,
                          Certificate::FromDer(cert.der)->sha256()));
  }

  testing::FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  PossessionChallenges challenges_{&clock_, kSecret};
  TestCert cert_ = MakeTestCert();
  Certificate certificate_ = *Certificate::FromDer(cert_.der);
};

TEST_F(PossessionTest, TheKeyHolderProvesPossession) {
  const std::string challenge = Challenge(certificate_);
  EXPECT_TRUE(
      challenges_.Verify(challenge, kMx1, certificate_, Sign(cert_, challenge))
          .ok());
}

TEST_F(PossessionTest, RsaKeysWork) {
  const TestCert rsa = MakeTestCert({.key_pem = testing::RsaKeyPem()});
  const Certificate certificate = *Certificate::FromDer(rsa.der);
  const std::string challenge = Challenge(certificate);
  EXPECT_TRUE(
      challenges_.Verify(challenge, kMx1, certificate, Sign(rsa, challenge))
          .ok());
}

TEST_F(PossessionTest, ChallengesExpireAfterFiveMinutes) {
  absl::StatusOr<PossessionChallenge> challenge =
      challenges_.Issue(kMx1, certificate_.sha256());
  ASSERT_TRUE(challenge.ok());
  EXPECT_EQ(challenge->expires, clock_.Now() + kChallengeLifetime);
  const std::string signature = Sign(cert_, challenge->bytes);

  clock_.Set(challenge->expires);
  EXPECT_TRUE(
      challenges_.Verify(challenge->bytes, kMx1, certificate_, signature).ok());
  clock_.Set(challenge->expires + absl::Seconds(1));
  const absl::Status expired =
      challenges_.Verify(challenge->bytes, kMx1, certificate_, signature);
  EXPECT_TRUE(absl::IsInvalidArgument(expired));
  EXPECT_THAT(expired.message(), HasSubstr("expired at"));
}

TEST_F(PossessionTest, AChallengeIsBoundToItsServer) {
  const std::string challenge = Challenge(certificate_);
  // Signed for the other server too: the challenge itself does not fit.
  const absl::Status status =
      challenges_.Verify(challenge, "mx2.org-b.example", certificate_,
                         Sign(cert_, challenge, "mx2.org-b.example"));
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("not issued by this dtrustd"));
}

TEST_F(PossessionTest, AChallengeIsBoundToItsCertificate) {
  const TestCert other = MakeTestCert();
  const Certificate other_certificate = *Certificate::FromDer(other.der);
  const std::string challenge = Challenge(certificate_);
  const absl::Status status = challenges_.Verify(
      challenge, kMx1, other_certificate, Sign(other, challenge));
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("not issued by this dtrustd"));
}

TEST_F(PossessionTest, AlteredChallengesAreRefused) {
  const std::string challenge = Challenge(certificate_);
  for (size_t i = 0; i < challenge.size(); ++i) {
    std::string altered = challenge;
    altered[i] ^= 0x01;
    EXPECT_TRUE(absl::IsInvalidArgument(
        challenges_.Verify(altered, kMx1, certificate_, Sign(cert_, altered))))
        << "byte " << i;
  }
  EXPECT_THAT(challenges_
                  .Verify(challenge.substr(1), kMx1, certificate_,
                          Sign(cert_, challenge.substr(1)))
                  .message(),
              HasSubstr("not one dtrustd issues"));
  EXPECT_FALSE(challenges_.Verify("", kMx1, certificate_, "x").ok());
}

TEST_F(PossessionTest, ChallengesOfAnotherSecretAreRefused) {
  // Another dtrustd process, or this one before a restart.
  const PossessionChallenges other(&clock_, "another secret, 32 bytes long..");
  absl::StatusOr<PossessionChallenge> challenge =
      other.Issue(kMx1, certificate_.sha256());
  ASSERT_TRUE(challenge.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(challenges_.Verify(
      challenge->bytes, kMx1, certificate_, Sign(cert_, challenge->bytes))));
  // Two objects with random secrets do not accept each other's either.
  const PossessionChallenges random1(&clock_), random2(&clock_);
  challenge = random1.Issue(kMx1, certificate_.sha256());
  ASSERT_TRUE(challenge.ok());
  const std::string signature = Sign(cert_, challenge->bytes);
  EXPECT_TRUE(
      random1.Verify(challenge->bytes, kMx1, certificate_, signature).ok());
  EXPECT_FALSE(
      random2.Verify(challenge->bytes, kMx1, certificate_, signature).ok());
}

TEST_F(PossessionTest, ChallengesAreFresh) {
  EXPECT_NE(Challenge(certificate_), Challenge(certificate_));
}

TEST_F(PossessionTest, SignaturesOfAnotherKeyAreRefused) {
  const TestCert other = MakeTestCert();
  const std::string challenge = Challenge(certificate_);
  const absl::Status status = challenges_.Verify(
      challenge, kMx1, certificate_,
      SignWithKey(other.key_pem,
                  PossessionMessage(challenge, kMx1, certificate_.sha256())));
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("does not verify"));
  EXPECT_THAT(status.message(), HasSubstr(certificate_.sha256().ToColonHex()));
}

TEST_F(PossessionTest, SignaturesOfAnotherMessageAreRefused) {
  const std::string challenge = Challenge(certificate_);
  // The bare challenge, without the domain separation and binding.
  EXPECT_TRUE(absl::IsInvalidArgument(challenges_.Verify(
      challenge, kMx1, certificate_, SignWithKey(cert_.key_pem, challenge))));
  EXPECT_TRUE(absl::IsInvalidArgument(
      challenges_.Verify(challenge, kMx1, certificate_, "not a signature")));
}

TEST(PossessionMessageTest, BindsChallengeServerAndCertificate) {
  const Sha256Digest a = Sha256Digest::Of("a");
  const Sha256Digest b = Sha256Digest::Of("b");
  const std::string message = PossessionMessage("challenge", kMx1, a);
  EXPECT_EQ(message.substr(0, 21), std::string("dtrust-possession-v1\0", 21));
  EXPECT_NE(message, PossessionMessage("challengE", kMx1, a));
  EXPECT_NE(message, PossessionMessage("challenge", "mx2.org-b.example", a));
  EXPECT_NE(message, PossessionMessage("challenge", kMx1, b));
}

}  // namespace
}  // namespace dtrust
