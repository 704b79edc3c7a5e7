#include "server/core/trust_service.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_directory.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::TestCert;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kMx1[] = "mx1.org-b.example";
constexpr char kMx2[] = "mx2.org-b.example";
constexpr char kOrgB[] = "org-b.example";

class TrustServiceTest : public ::testing::Test {
 protected:
  absl::StatusOr<PublishResult> Publish(
      const TestCert& cert, const std::string& server = kMx1,
      std::vector<std::string> domains = {kOrgB},
      PinKind kind = PinKind::kCertificate) {
    return service_.Publish({server, std::move(domains), cert.der, kind});
  }
  VerifyResult Verify(const TestCert& cert, const std::string& server = "",
                      const std::string& domain = "") {
    auto result = service_.Verify({.certificate_der = cert.der,
                                   .expected_server = server,
                                   .expected_domain = domain});
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : VerifyResult{};
  }
  static Sha256Digest Sha256(const TestCert& cert) {
    return Certificate::FromDer(cert.der)->sha256();
  }
  static Sha256Digest Spki(const TestCert& cert) {
    return Certificate::FromDer(cert.der)->spki_sha256();
  }

  testing::FakeDirectory directory_;
  testing::FakeClock clock_;
  TrustService service_{&directory_, &clock_};
};

TEST_F(TrustServiceTest, WalkthroughFromTheIssue) {
  const TestCert mx1 = MakeTestCert({.common_name = kMx1});
  auto published = Publish(mx1);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->outcome, PublishResult::Outcome::kPublished);
  EXPECT_THAT(published->domains_added, ElementsAre(kOrgB));
  EXPECT_EQ(published->server.name, kMx1);

  VerifyResult trusted = Verify(mx1);
  EXPECT_EQ(trusted.verdict, Verdict::kTrusted);
  EXPECT_EQ(trusted.server, kMx1);
  EXPECT_THAT(trusted.domains, ElementsAre(kOrgB));
  EXPECT_EQ(trusted.cert_sha256, Sha256(mx1));
  EXPECT_EQ(trusted.spki_sha256, Spki(mx1));
  EXPECT_EQ(trusted.pin_kind, PinKind::kCertificate);
  EXPECT_TRUE(trusted.not_after.has_value());

  EXPECT_EQ(Verify(mx1, "", "org-c.example").verdict, Verdict::kWrongDomain);
  EXPECT_EQ(Verify(MakeTestCert()).verdict, Verdict::kNotPublished);

  auto list = service_.List({});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].pins[0].der, mx1.der);

  auto removed =
      service_.Unpublish({.server = kMx1, .certificate_der = mx1.der});
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_THAT(removed->servers, ElementsAre(kMx1));
  EXPECT_THAT(removed->servers_removed, ElementsAre(kMx1));
  EXPECT_EQ(Verify(mx1).verdict, Verdict::kNotPublished);
  EXPECT_THAT(*service_.List({}), IsEmpty());
}

TEST_F(TrustServiceTest, NamesAreNormalized) {
  const TestCert mx1 = MakeTestCert();
  ASSERT_TRUE(Publish(mx1, "MX1.Org-B.Example.", {"ORG-B.example"}).ok());
  EXPECT_EQ(Verify(mx1, "mx1.org-b.example.", "Org-B.Example").verdict,
            Verdict::kTrusted);
}

TEST_F(TrustServiceTest, PublishingTwiceSaysAlreadyPublishedAndWritesNothing) {
  const TestCert mx1 = MakeTestCert();
  ASSERT_TRUE(Publish(mx1).ok());
  const int writes = directory_.writes();
  auto again = Publish(mx1);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->outcome, PublishResult::Outcome::kAlreadyPublished);
  EXPECT_THAT(again->domains_added, IsEmpty());
  EXPECT_EQ(directory_.writes(), writes);
}

TEST_F(TrustServiceTest, PublishAddsNewDomainsToAnExistingServer) {
  ASSERT_TRUE(Publish(MakeTestCert()).ok());
  auto second = Publish(MakeTestCert(), kMx1, {kOrgB, "org-b.example.net"});
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(second->domains_added, ElementsAre("org-b.example.net"));
  EXPECT_THAT(second->server.domains, ElementsAre(kOrgB, "org-b.example.net"));
  // A server already published needs no domain.
  EXPECT_TRUE(Publish(MakeTestCert(), kMx1, {}).ok());
}

TEST_F(TrustServiceTest, NewServerNeedsADomain) {
  auto result = Publish(MakeTestCert(), kMx1, {});
  EXPECT_TRUE(absl::IsInvalidArgument(result.status()));
  EXPECT_THAT(result.status().message(), HasSubstr("mail domain"));
  EXPECT_EQ(directory_.writes(), 0);
}

TEST_F(TrustServiceTest, BadInputWritesNothing) {
  const TestCert mx1 = MakeTestCert();
  for (const auto& [server, domain, der] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"mx1(.example", kOrgB, mx1.der},
           {"mx1,ou=x", kOrgB, mx1.der},
           {kMx1, "org-b.example*", mx1.der},
           {kMx1, "a=b", mx1.der},
           {kMx1, kOrgB, "not a certificate"},
           {kMx1, kOrgB, mx1.der + "x"},
           {kMx1, kOrgB, ""},
       }) {
    auto result = Publish({.der = der}, server, {domain});
    EXPECT_TRUE(absl::IsInvalidArgument(result.status()))
        << server << " " << domain << ": " << result.status();
  }
  EXPECT_EQ(directory_.writes(), 0);
}

TEST_F(TrustServiceTest, ChangingThePinKindIsReported) {
  const TestCert mx1 = MakeTestCert();
  ASSERT_TRUE(Publish(mx1).ok());
  auto changed = Publish(mx1, kMx1, {kOrgB}, PinKind::kPublicKey);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->outcome, PublishResult::Outcome::kPinUpdated);
  EXPECT_EQ(changed->pin.kind, PinKind::kPublicKey);
  ASSERT_TRUE(changed->previous.has_value());
  EXPECT_EQ(changed->previous->kind, PinKind::kCertificate);
}

TEST_F(TrustServiceTest, RolloverTrustsBothCertificates) {
  const TestCert current = MakeTestCert();
  const TestCert next = MakeTestCert();
  ASSERT_TRUE(Publish(current).ok());
  ASSERT_TRUE(Publish(next).ok());
  EXPECT_EQ(Verify(current, kMx1, kOrgB).verdict, Verdict::kTrusted);
  EXPECT_EQ(Verify(next, kMx1, kOrgB).verdict, Verdict::kTrusted);
  auto removed =
      service_.Unpublish({.server = kMx1, .cert_sha256 = Sha256(current)});
  ASSERT_TRUE(removed.ok());
  EXPECT_THAT(removed->servers_removed, IsEmpty());  // `next` remains.
  EXPECT_EQ(Verify(current).verdict, Verdict::kNotPublished);
  EXPECT_EQ(Verify(next).verdict, Verdict::kTrusted);
}

TEST_F(TrustServiceTest, ForgedIssuerAndSerialIsNotTrusted) {
  const TestCert real = MakeTestCert(
      {.common_name = kMx1, .issuer_common_name = "Org B CA", .serial = 4242});
  ASSERT_TRUE(Publish(real).ok());
  const TestCert forged = MakeTestCert(
      {.common_name = kMx1, .issuer_common_name = "Org B CA", .serial = 4242});
  const VerifyResult result = Verify(forged, kMx1, kOrgB);
  EXPECT_EQ(result.verdict, Verdict::kNotPublished);
  EXPECT_THAT(result.reason, HasSubstr(Sha256(forged).ToColonHex()));
}

TEST_F(TrustServiceTest, RenewalWithSameKeyNeedsAKeyPin) {
  const TestCert original = MakeTestCert();
  const TestCert renewed = MakeTestCert({.key_pem = original.key_pem});
  ASSERT_TRUE(Publish(original).ok());
  const VerifyResult by_cert = Verify(renewed);
  EXPECT_EQ(by_cert.verdict, Verdict::kNotPublished);
  EXPECT_THAT(by_cert.reason, HasSubstr("pinned by certificate, not by key"));

  ASSERT_TRUE(Publish(original, kMx1, {kOrgB}, PinKind::kPublicKey).ok());
  const VerifyResult by_key = Verify(renewed);
  EXPECT_EQ(by_key.verdict, Verdict::kTrusted);
  EXPECT_EQ(by_key.pin_kind, PinKind::kPublicKey);
  EXPECT_EQ(by_key.cert_sha256, Sha256(renewed));  // What was presented.
}

TEST_F(TrustServiceTest, ValidityIsCheckedAgainstTheClock) {
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  clock_.Set(now);
  const TestCert cert = MakeTestCert(
      {.not_before = now - absl::Hours(48), .not_after = now + absl::Hours(1)});
  ASSERT_TRUE(Publish(cert).ok());
  EXPECT_EQ(Verify(cert).verdict, Verdict::kTrusted);
  clock_.Set(now + absl::Hours(2));
  const VerifyResult expired = Verify(cert);
  EXPECT_EQ(expired.verdict, Verdict::kExpired);
  EXPECT_THAT(expired.reason, HasSubstr("expired at"));
  clock_.Set(now - absl::Hours(49));
  EXPECT_EQ(Verify(cert).verdict, Verdict::kNotYetValid);
  // Identity problems outrank dates.
  EXPECT_EQ(Verify(cert, kMx2).verdict, Verdict::kWrongServer);
}

TEST_F(TrustServiceTest, SameCertificateOnTwoServersPicksTheExpectedOne) {
  const TestCert shared = MakeTestCert();
  ASSERT_TRUE(Publish(shared, kMx1, {kOrgB}).ok());
  ASSERT_TRUE(Publish(shared, kMx2, {"org-c.example"}).ok());
  EXPECT_EQ(Verify(shared, kMx2).server, kMx2);
  EXPECT_EQ(Verify(shared, "", "org-c.example").verdict, Verdict::kTrusted);
  EXPECT_EQ(Verify(shared, "mx3.org-b.example").verdict, Verdict::kWrongServer);
  // Without a server, unpublish removes it everywhere.
  auto removed = service_.Unpublish({.cert_sha256 = Sha256(shared)});
  ASSERT_TRUE(removed.ok());
  EXPECT_THAT(removed->servers, ElementsAre(kMx1, kMx2));
  EXPECT_THAT(*service_.List({}), IsEmpty());
}

TEST_F(TrustServiceTest, VerifiesByFingerprints) {
  const TestCert cert_pinned = MakeTestCert();
  const TestCert key_pinned = MakeTestCert();
  ASSERT_TRUE(Publish(cert_pinned).ok());
  ASSERT_TRUE(Publish(key_pinned, kMx2, {kOrgB}, PinKind::kPublicKey).ok());

  auto by_sha = service_.Verify({.cert_sha256 = Sha256(cert_pinned)});
  ASSERT_TRUE(by_sha.ok());
  EXPECT_EQ(by_sha->verdict, Verdict::kTrusted);
  EXPECT_EQ(by_sha->spki_sha256, Spki(cert_pinned));  // Completed.
  EXPECT_TRUE(by_sha->not_after.has_value());

  // A key alone does not prove a certificate pin.
  auto spki_only = service_.Verify({.spki_sha256 = Spki(cert_pinned)});
  EXPECT_EQ(spki_only->verdict, Verdict::kNotPublished);

  auto key = service_.Verify({.spki_sha256 = Spki(key_pinned)});
  EXPECT_EQ(key->verdict, Verdict::kTrusted);
  EXPECT_EQ(key->server, kMx2);
  EXPECT_FALSE(key->cert_sha256.has_value());
  EXPECT_FALSE(key->not_after.has_value());  // No certificate to date.

  // Postfix sends both.
  auto both = service_.Verify(
      {.cert_sha256 = Sha256(MakeTestCert()), .spki_sha256 = Spki(key_pinned)});
  EXPECT_EQ(both->verdict, Verdict::kTrusted);
}

TEST_F(TrustServiceTest, VerifyRejectsAmbiguousOrEmptyInput) {
  const TestCert cert = MakeTestCert();
  EXPECT_TRUE(absl::IsInvalidArgument(service_.Verify({}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      service_
          .Verify({.certificate_der = cert.der, .cert_sha256 = Sha256(cert)})
          .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      service_.Verify({.certificate_der = cert.der, .expected_domain = "a b"})
          .status()));
}

TEST_F(TrustServiceTest, UnpublishingWhatIsNotThereIsNotFound) {
  const TestCert cert = MakeTestCert();
  auto result = service_.Unpublish({.certificate_der = cert.der});
  EXPECT_TRUE(absl::IsNotFound(result.status()));
  EXPECT_THAT(result.status().message(), HasSubstr(Sha256(cert).ToColonHex()));
  ASSERT_TRUE(Publish(cert).ok());
  auto wrong_server =
      service_.Unpublish({.server = kMx2, .certificate_der = cert.der});
  EXPECT_TRUE(absl::IsNotFound(wrong_server.status()));
  EXPECT_THAT(wrong_server.status().message(), HasSubstr(kMx2));
  EXPECT_TRUE(absl::IsInvalidArgument(service_.Unpublish({}).status()));
}

TEST_F(TrustServiceTest, DirectoryDownIsAnErrorNeverAVerdict) {
  const TestCert cert = MakeTestCert();
  ASSERT_TRUE(Publish(cert).ok());
  directory_.SetUnavailable(true);
  EXPECT_TRUE(absl::IsUnavailable(
      service_.Verify({.certificate_der = cert.der}).status()));
  EXPECT_TRUE(absl::IsUnavailable(Publish(MakeTestCert()).status()));
  EXPECT_TRUE(absl::IsUnavailable(
      service_.Unpublish({.certificate_der = cert.der}).status()));
  EXPECT_TRUE(absl::IsUnavailable(service_.List({}).status()));
}

TEST_F(TrustServiceTest, ListFiltersByServerAndDomain) {
  ASSERT_TRUE(Publish(MakeTestCert(), kMx1, {kOrgB}).ok());
  ASSERT_TRUE(Publish(MakeTestCert(), kMx2, {"org-c.example"}).ok());
  EXPECT_EQ(service_.List({.server = "MX2.org-b.example"})->at(0).name, kMx2);
  EXPECT_EQ(service_.List({.domain = kOrgB})->at(0).name, kMx1);
  EXPECT_TRUE(absl::IsInvalidArgument(
      service_.List({.domain = "bad domain"}).status()));
}

// Pin windows: certificates valid from kStart - 30 days to kStart + 365 days;
// the current certificate's pin ends at kSwitch, the next one's begins an
// hour earlier.
class PinWindowTest : public TrustServiceTest {
 protected:
  static constexpr absl::Duration kDay = absl::Hours(24);
  const absl::Time kStart = absl::FromUnixSeconds(1800000000);
  const absl::Time kSwitch = kStart + 10 * kDay;
  const absl::Time kNotBefore = kStart - 30 * kDay;
  const absl::Time kNotAfter = kStart + 365 * kDay;

  void SetUp() override { clock_.Set(kStart); }

  TestCert Cert(const std::string& key_pem = "") const {
    return MakeTestCert(
        {.not_before = kNotBefore, .not_after = kNotAfter, .key_pem = key_pem});
  }
  absl::StatusOr<PublishResult> PublishWindow(
      const TestCert& cert, PinWindow window,
      PinKind kind = PinKind::kCertificate, const std::string& server = kMx1,
      std::vector<std::string> domains = {kOrgB}) {
    return service_.Publish(
        {server, std::move(domains), cert.der, kind, window});
  }
  VerifyResult VerifyAt(absl::Time now, const TestCert& cert) {
    clock_.Set(now);
    return Verify(cert);
  }
};

TEST_F(PinWindowTest, RolloverAcrossWindows) {
  const TestCert current = Cert();
  const TestCert next = Cert();
  ASSERT_TRUE(PublishWindow(current, {.not_after = kSwitch}).ok());
  ASSERT_TRUE(
      PublishWindow(next, {.not_before = kSwitch - absl::Hours(1)}).ok());

  // Before the overlap: only the current certificate.
  const absl::Time before = kSwitch - absl::Hours(2);
  EXPECT_EQ(VerifyAt(before, current).verdict, Verdict::kTrusted);
  const VerifyResult early = VerifyAt(before, next);
  EXPECT_EQ(early.verdict, Verdict::kPinNotYetActive);
  EXPECT_THAT(early.reason,
              HasSubstr("not active before 2027-01-25T07:00:00Z"));
  EXPECT_EQ(early.pin_window.not_before, kSwitch - absl::Hours(1));
  EXPECT_EQ(early.server, kMx1);

  // Within the overlap (bounds included): both.
  for (absl::Time now :
       {kSwitch - absl::Hours(1), kSwitch - absl::Minutes(30), kSwitch}) {
    EXPECT_EQ(VerifyAt(now, current).verdict, Verdict::kTrusted) << now;
    EXPECT_EQ(VerifyAt(now, next).verdict, Verdict::kTrusted) << now;
  }

  // After the switch: only the next one.
  const absl::Time after = kSwitch + absl::Seconds(1);
  const VerifyResult lapsed = VerifyAt(after, current);
  EXPECT_EQ(lapsed.verdict, Verdict::kPinExpired);
  EXPECT_THAT(lapsed.reason,
              HasSubstr("pin window ended at 2027-01-25T08:00:00Z"));
  EXPECT_THAT(lapsed.reason, HasSubstr(Sha256(current).ToColonHex()));
  EXPECT_EQ(lapsed.pin_window.not_after, kSwitch);
  EXPECT_EQ(VerifyAt(after, next).verdict, Verdict::kTrusted);

  // The certificate's own dates come first.
  EXPECT_EQ(VerifyAt(kNotAfter + absl::Seconds(1), current).verdict,
            Verdict::kExpired);
  EXPECT_EQ(VerifyAt(kNotBefore - absl::Seconds(1), next).verdict,
            Verdict::kNotYetValid);
}

TEST_F(PinWindowTest, KeyPinWindowAppliesToEveryCertificateWithTheKey) {
  const TestCert original = Cert();
  const TestCert renewed = Cert(original.key_pem);
  ASSERT_TRUE(
      PublishWindow(original, {.not_after = kSwitch}, PinKind::kPublicKey)
          .ok());
  EXPECT_EQ(VerifyAt(kSwitch, renewed).verdict, Verdict::kTrusted);
  EXPECT_EQ(VerifyAt(kSwitch + absl::Hours(1), renewed).verdict,
            Verdict::kPinExpired);
  auto by_key = service_.Verify({.spki_sha256 = Spki(original)});
  ASSERT_TRUE(by_key.ok());
  EXPECT_EQ(by_key->verdict, Verdict::kPinExpired);

  // The renewed certificate published with its own pin takes over.
  ASSERT_TRUE(PublishWindow(renewed, {}, PinKind::kPublicKey).ok());
  EXPECT_EQ(Verify(renewed).verdict, Verdict::kTrusted);
  EXPECT_EQ(Verify(original).verdict, Verdict::kTrusted);  // Same key.
}

TEST_F(PinWindowTest, WindowVerdictsRankWithDateVerdicts) {
  const TestCert shared = Cert();
  ASSERT_TRUE(PublishWindow(shared, {.not_after = kSwitch}).ok());
  ASSERT_TRUE(
      PublishWindow(shared, {}, PinKind::kCertificate, kMx2, {"org-c.example"})
          .ok());
  clock_.Set(kSwitch + kDay);
  // mx1 serves org-b but its pin lapsed; mx2 is trusted but serves org-c.
  const VerifyResult result = Verify(shared, "", kOrgB);
  EXPECT_EQ(result.verdict, Verdict::kPinExpired);
  EXPECT_EQ(result.server, kMx1);
}

TEST_F(PinWindowTest, BadWindowsAreRefusedAndNothingWritten) {
  const TestCert cert = Cert();
  const struct {
    PinWindow window;
    std::vector<std::string> named;  // Dates the message must name.
  } cases[] = {
      {{.not_before = kNotBefore - absl::Seconds(1)},
       {"2026-12-16T07:59:59Z", "2026-12-16T08:00:00Z",
        "2028-01-15T08:00:00Z"}},
      {{.not_after = kNotAfter + kDay},
       {"2028-01-16T08:00:00Z", "2028-01-15T08:00:00Z"}},
      {{.not_before = kSwitch, .not_after = kSwitch},
       {"2027-01-25T08:00:00Z", "is not before its end"}},
      {{.not_before = kSwitch, .not_after = kStart},
       {"2027-01-25T08:00:00Z", "2027-01-15T08:00:00Z"}},
      {{.not_before = kNotAfter}, {"2028-01-15T08:00:00Z", "not before"}},
      {{.not_after = kNotBefore}, {"2026-12-16T08:00:00Z", "not before"}},
  };
  for (const auto& [window, named] : cases) {
    auto result = PublishWindow(cert, window);
    EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
    for (const std::string& text : named) {
      EXPECT_THAT(result.status().message(), HasSubstr(text));
    }
  }
  EXPECT_EQ(directory_.writes(), 0);
  // The widest window allowed is the certificate's validity.
  EXPECT_TRUE(
      PublishWindow(cert, {.not_before = kNotBefore, .not_after = kNotAfter})
          .ok());
}

TEST_F(PinWindowTest, RepublishingWithAnotherWindowUpdatesIt) {
  const TestCert cert = Cert();
  const PinWindow first{.not_after = kSwitch};
  ASSERT_TRUE(PublishWindow(cert, first).ok());
  const int writes = directory_.writes();
  auto same = PublishWindow(cert, first);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->outcome, PublishResult::Outcome::kAlreadyPublished);
  EXPECT_EQ(directory_.writes(), writes);

  const PinWindow second{.not_before = kStart, .not_after = kSwitch + kDay};
  auto moved = PublishWindow(cert, second);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->outcome, PublishResult::Outcome::kPinUpdated);
  EXPECT_EQ(moved->pin.window, second);
  ASSERT_TRUE(moved->previous.has_value());
  EXPECT_EQ(moved->previous->window, first);
  EXPECT_EQ(moved->server.pins[0].window, second);
  EXPECT_EQ(VerifyAt(kSwitch + absl::Hours(1), cert).verdict,
            Verdict::kTrusted);

  auto cleared = PublishWindow(cert, {});
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(cleared->outcome, PublishResult::Outcome::kPinUpdated);
  EXPECT_EQ(cleared->pin.window, PinWindow{});
  EXPECT_EQ((*service_.List({}))[0].pins[0].window, PinWindow{});
  EXPECT_EQ(VerifyAt(kSwitch + 2 * kDay, cert).verdict, Verdict::kTrusted);
}

}  // namespace
}  // namespace dtrust
