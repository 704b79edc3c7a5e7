#include "server/core/inbound_policy.h"

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
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Action = InboundDecision::Action;

class InboundPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        service_
            .Publish({"mx1.org-b.example", {"org-b.example"}, org_b_cert_.der})
            .ok());
    ASSERT_TRUE(
        service_
            .Publish({"mx1.org-c.example", {"org-c.example"}, org_c_cert_.der})
            .ok());
    SetReceive("org-b.example", SecureMode::kEnforce);
  }
  void SetReceive(const std::string& domain, SecureMode mode) {
    ASSERT_TRUE(
        service_.SetDomainPolicy({.domain = domain, .receive = mode}).ok());
  }
  static InboundQuery Query(const std::string& sender, const TestCert* cert) {
    InboundQuery query{.sender = sender,
                       .client_name = "mx1.org-b.example",
                       .client_address = "192.0.2.1",
                       .helo_name = "mx1.org-b.example",
                       .tls = true};
    if (cert != nullptr) {
      const Certificate parsed = *Certificate::FromDer(cert->der);
      query.cert_sha256 = parsed.sha256();
      query.spki_sha256 = parsed.spki_sha256();
    }
    return query;
  }

  testing::FakeDirectory directory_;
  testing::FakeClock clock_;
  TrustService service_{&directory_, &clock_};
  InboundPolicy policy_{&directory_, &service_};
  const TestCert org_b_cert_ = MakeTestCert();
  const TestCert org_c_cert_ = MakeTestCert();
};

TEST_F(InboundPolicyTest, PublishedCertificateOfTheDomainIsDomainSecured) {
  const InboundDecision decision =
      policy_.Decide(Query("alice@Org-B.example", &org_b_cert_));
  EXPECT_EQ(decision.action, Action::kPrepend);
  EXPECT_EQ(decision.header,
            "X-DirectTrust: domain-secured; domain=org-b.example; "
            "server=mx1.org-b.example; cert-sha256=" +
                Certificate::FromDer(org_b_cert_.der)->sha256().ToHex());
  EXPECT_THAT(decision.log, HasSubstr("domain-secured"));

  InboundQuery next_recipient = Query("alice@org-b.example", &org_b_cert_);
  next_recipient.header_added = true;
  EXPECT_EQ(policy_.Decide(next_recipient).action, Action::kDunno);
}

TEST_F(InboundPolicyTest, EnforceRejectsNamingTheReason) {
  const TestCert unpublished = MakeTestCert();
  InboundDecision decision =
      policy_.Decide(Query("alice@org-b.example", &unpublished));
  EXPECT_EQ(decision.action, Action::kReject);
  EXPECT_EQ(decision.reply,
            "550 5.7.1 dtrust: org-b.example requires domain-secured mail: "
            "client certificate is not published");
  EXPECT_THAT(decision.log, HasSubstr("mx1.org-b.example[192.0.2.1]"));
  EXPECT_THAT(
      decision.log,
      HasSubstr(Certificate::FromDer(unpublished.der)->sha256().ToHex()));

  decision = policy_.Decide(Query("alice@org-b.example", nullptr));
  EXPECT_EQ(decision.action, Action::kReject);
  EXPECT_THAT(decision.reply, HasSubstr("no client certificate"));

  InboundQuery plain = Query("alice@org-b.example", nullptr);
  plain.tls = false;
  EXPECT_THAT(policy_.Decide(plain).reply, HasSubstr("no TLS"));

  // Org C's published certificate does not speak for org B.
  decision = policy_.Decide(Query("alice@org-b.example", &org_c_cert_));
  EXPECT_EQ(decision.action, Action::kReject);
  EXPECT_THAT(decision.reply,
              HasSubstr("published for mx1.org-c.example, a server of "
                        "another domain"));
}

TEST_F(InboundPolicyTest, ExpiredCertificateIsRejected) {
  const TestCert expiring =
      MakeTestCert({.not_before = absl::Now() - absl::Hours(2),
                    .not_after = absl::Now() - absl::Hours(1)});
  ASSERT_TRUE(
      service_.Publish({"mx2.org-b.example", {"org-b.example"}, expiring.der})
          .ok());
  EXPECT_THAT(policy_.Decide(Query("a@org-b.example", &expiring)).reply,
              HasSubstr("client certificate has expired"));
}

// Inbound decides through Verify, so pin windows count, too.
TEST_F(InboundPolicyTest, PinOutsideItsWindowIsRejected) {
  const TestCert next = MakeTestCert();
  const absl::Time now = clock_.Now();
  ASSERT_TRUE(service_
                  .Publish({"mx2.org-b.example",
                            {"org-b.example"},
                            next.der,
                            PinKind::kCertificate,
                            {.not_before = now + absl::Hours(1)}})
                  .ok());
  InboundDecision decision = policy_.Decide(Query("a@org-b.example", &next));
  EXPECT_EQ(decision.action, Action::kReject);
  EXPECT_THAT(decision.log, HasSubstr("its pin is not active before"));
  clock_.Set(now + absl::Hours(2));
  decision = policy_.Decide(Query("a@org-b.example", &next));
  EXPECT_EQ(decision.action, Action::kPrepend);
  EXPECT_THAT(decision.header, StartsWith("X-DirectTrust: domain-secured;"));
}

TEST_F(InboundPolicyTest, TestingModeAcceptsWithAHeader) {
  SetReceive("org-b.example", SecureMode::kTesting);
  const InboundDecision decision =
      policy_.Decide(Query("alice@org-b.example", nullptr));
  EXPECT_EQ(decision.action, Action::kPrepend);
  EXPECT_EQ(decision.header,
            "X-DirectTrust: testing; domain=org-b.example; result=fail; "
            "reason=no client certificate");
  EXPECT_THAT(decision.log, HasSubstr("would reject"));
}

TEST_F(InboundPolicyTest, OtherDomainsAndBouncesAreNotOurs) {
  const TestCert unpublished = MakeTestCert();
  EXPECT_EQ(policy_.Decide(Query("bob@org-c.example", &unpublished)).action,
            Action::kDunno);
  EXPECT_EQ(policy_.Decide(Query("", nullptr)).action, Action::kDunno);
  EXPECT_EQ(policy_.Decide(Query("bob@sub.org-b.example", nullptr)).action,
            Action::kDunno);
  EXPECT_TRUE(policy_.Decide(Query("bob@org-c.example", nullptr)).log.empty());
  // Send-only listing does not restrict inbound mail.
  ASSERT_TRUE(service_
                  .SetDomainPolicy(
                      {.domain = "org-c.example", .send = SecureMode::kEnforce})
                  .ok());
  EXPECT_EQ(policy_.Decide(Query("bob@org-c.example", nullptr)).action,
            Action::kDunno);
}

TEST_F(InboundPolicyTest, DirectoryDownDefersNeverAcceptsNorRejects) {
  directory_.SetUnavailable(true);
  for (const TestCert* cert :
       {&org_b_cert_, static_cast<const TestCert*>(nullptr)}) {
    const InboundDecision decision =
        policy_.Decide(Query("alice@org-b.example", cert));
    EXPECT_EQ(decision.action, Action::kDefer);
    EXPECT_THAT(decision.reply, StartsWith("451 4.3.0 "));
    EXPECT_THAT(decision.log, HasSubstr("directory unavailable"));
  }
}

}  // namespace
}  // namespace dtrust
