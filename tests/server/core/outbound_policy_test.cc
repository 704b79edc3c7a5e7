#include "server/core/outbound_policy.h"

#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "server/core/trust_service.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_directory.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::TestCert;
using ::testing::HasSubstr;
using ::testing::Not;
using Kind = TlsPolicyAnswer::Kind;

std::string Fingerprint(const TestCert& cert) {
  return Certificate::FromDer(cert.der)->sha256().ToColonHex();
}

class OutboundPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Publish(mx1_, "mx1.org-b.example");
    Publish(mx2_, "mx2.org-b.example");
    ASSERT_TRUE(service_
                    .SetDomainPolicy({.domain = "org-b.example",
                                      .send = SecureMode::kEnforce})
                    .ok());
  }
  void Publish(const TestCert& cert, const std::string& server,
               PinKind kind = PinKind::kCertificate) {
    ASSERT_TRUE(
        service_.Publish({server, {"org-b.example"}, cert.der, kind}).ok());
  }

  testing::FakeDirectory directory_;
  testing::FakeClock clock_;
  TrustService service_{&directory_, &clock_};
  OutboundPolicy policy_{&directory_, &clock_};
  const TestCert mx1_ = MakeTestCert();
  const TestCert mx2_ = MakeTestCert();
};

TEST_F(OutboundPolicyTest, SendSecureDomainPinsEveryServersCertificate) {
  const TlsPolicyAnswer answer = policy_.Lookup("org-b.example");
  EXPECT_EQ(answer.kind, Kind::kFound);
  EXPECT_THAT(answer.policy, HasSubstr("fingerprint match="));
  EXPECT_THAT(answer.policy, HasSubstr(Fingerprint(mx1_)));
  EXPECT_THAT(answer.policy, HasSubstr(Fingerprint(mx2_)));
  EXPECT_EQ(policy_.Lookup("ORG-B.example").policy, answer.policy);
}

TEST_F(OutboundPolicyTest, KeyPinsArePinnedByPublicKey) {
  const TestCert keyed = MakeTestCert();
  Publish(keyed, "mx3.org-b.example", PinKind::kPublicKey);
  EXPECT_THAT(
      policy_.Lookup("org-b.example").policy,
      HasSubstr(Certificate::FromDer(keyed.der)->spki_sha256().ToColonHex()));
}

TEST_F(OutboundPolicyTest, NextHopNamingAServerPinsThatServerOnly) {
  for (const char* key : {"[mx1.org-b.example]:2526", "[mx1.org-b.example]",
                          "mx1.org-b.example:25"}) {
    const TlsPolicyAnswer answer = policy_.Lookup(key);
    EXPECT_EQ(answer.kind, Kind::kFound) << key;
    EXPECT_EQ(answer.policy, "fingerprint match=" + Fingerprint(mx1_)) << key;
  }
  EXPECT_EQ(policy_.Lookup("[org-b.example]:25").kind, Kind::kFound);
  EXPECT_EQ(policy_.Lookup("[unknown.org-b.example]:25").kind, Kind::kNotFound);
}

TEST_F(OutboundPolicyTest, UnlistedParentAndIpKeysAreNotFound) {
  for (const char* key :
       {"org-c.example", ".org-b.example", "[127.0.0.1]:2526", "[ipv6:::1]:25",
        "127.0.0.1", "", "mx1.org-b.example", "bad key!"}) {
    EXPECT_EQ(policy_.Lookup(key).kind, Kind::kNotFound) << key;
  }
}

TEST_F(OutboundPolicyTest, ExpiredCertificatesAreNotPinned) {
  clock_.Set(absl::Now() + absl::Hours(24 * 400));
  const TlsPolicyAnswer answer = policy_.Lookup("org-b.example");
  EXPECT_EQ(answer.kind, Kind::kTempFail);
  EXPECT_THAT(answer.reason, HasSubstr("no valid certificate"));
}

TEST_F(OutboundPolicyTest, PinsOutsideTheirWindowsAreNotPinned) {
  const absl::Time now = clock_.Now();
  const PinWindow ended{.not_after = now - absl::Minutes(1)};
  const PinWindow ahead{.not_before = now + absl::Minutes(1)};
  // mx1 rolled over to its next certificate, mx2's next one is not due yet.
  const TestCert mx1_next = MakeTestCert();
  const TestCert mx2_next = MakeTestCert();
  const TestCert keyed = MakeTestCert();
  for (const auto& [cert, server, kind, window] : std::vector<
           std::tuple<const TestCert*, std::string, PinKind, PinWindow>>{
           {&mx1_, "mx1.org-b.example", PinKind::kCertificate, ended},
           {&mx1_next, "mx1.org-b.example", PinKind::kCertificate, {}},
           {&mx2_next, "mx2.org-b.example", PinKind::kCertificate, ahead},
           {&keyed, "mx3.org-b.example", PinKind::kPublicKey, ended}}) {
    ASSERT_TRUE(
        service_.Publish({server, {"org-b.example"}, cert->der, kind, window})
            .ok());
  }
  const std::string policy = policy_.Lookup("org-b.example").policy;
  EXPECT_THAT(policy, HasSubstr(Fingerprint(mx1_next)));
  EXPECT_THAT(policy, HasSubstr(Fingerprint(mx2_)));
  EXPECT_THAT(policy, Not(HasSubstr(Fingerprint(mx1_))));
  EXPECT_THAT(policy, Not(HasSubstr(Fingerprint(mx2_next))));
  EXPECT_THAT(
      policy,
      Not(HasSubstr(
          Certificate::FromDer(keyed.der)->spki_sha256().ToColonHex())));

  // A server whose only pin lapsed has nothing to pin: TEMP, never NOTFOUND.
  const TlsPolicyAnswer lapsed = policy_.Lookup("[mx3.org-b.example]:25");
  EXPECT_EQ(lapsed.kind, Kind::kTempFail);
  EXPECT_THAT(lapsed.reason, HasSubstr("no valid certificate"));

  clock_.Set(now + absl::Minutes(2));
  EXPECT_THAT(policy_.Lookup("org-b.example").policy,
              HasSubstr(Fingerprint(mx2_next)));
}

TEST_F(OutboundPolicyTest, SendSecureWithNothingPublishedIsTempNeverNotFound) {
  ASSERT_TRUE(service_
                  .SetDomainPolicy(
                      {.domain = "org-d.example", .send = SecureMode::kEnforce})
                  .ok());
  EXPECT_EQ(policy_.Lookup("org-d.example").kind, Kind::kTempFail);
}

TEST_F(OutboundPolicyTest, TestingModeLetsMailFlowAndLogs) {
  ASSERT_TRUE(service_
                  .SetDomainPolicy(
                      {.domain = "org-b.example", .send = SecureMode::kTesting})
                  .ok());
  const TlsPolicyAnswer answer = policy_.Lookup("org-b.example");
  EXPECT_EQ(answer.kind, Kind::kFound);
  EXPECT_EQ(answer.policy, "may");
  EXPECT_THAT(answer.log, HasSubstr("testing"));
}

TEST_F(OutboundPolicyTest, DirectoryDownIsTemp) {
  directory_.SetUnavailable(true);
  for (const char* key : {"org-b.example", "[mx1.org-b.example]:25"}) {
    const TlsPolicyAnswer answer = policy_.Lookup(key);
    EXPECT_EQ(answer.kind, Kind::kTempFail) << key;
    EXPECT_THAT(answer.reason, HasSubstr("directory unavailable"));
  }
}

}  // namespace
}  // namespace dtrust
