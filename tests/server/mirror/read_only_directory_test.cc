#include "server/mirror/read_only_directory.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "server/core/trust_service.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kReason[] =
    "servers are (objectClass=computer) entries named by dNSHostName with "
    "certificates in userCertificate;binary";

EntryUuid Uuid(uint8_t n) {
  EntryUuid uuid{};
  uuid[0] = n;
  return uuid;
}

class ReadOnlyDirectoryTest : public ::testing::Test {
 protected:
  ReadOnlyDirectoryTest()
      : clock_(absl::FromUnixSeconds(1'800'000'000)),
        mirror_({.mode = SyncMode::kPoll, .max_staleness = absl::Minutes(5)},
                &clock_),
        directory_(&mirror_, kReason),
        service_(&directory_, &clock_),
        cert_(testing::MakeTestCert(
            {.not_before = clock_.Now() - absl::Hours(1),
             .not_after = clock_.Now() + absl::Hours(1)})) {}

  // What the poller makes of a computer entry with `cert_`.
  void LoadComputer() {
    const absl::StatusOr<Certificate> certificate =
        Certificate::FromDer(cert_.der);
    ASSERT_TRUE(certificate.ok()) << certificate.status();
    PinRecord pin;
    pin.cert_sha256 = certificate->sha256();
    pin.spki_sha256 = certificate->spki_sha256();
    pin.not_before = certificate->not_before();
    pin.not_after = certificate->not_after();
    mirror_.index().Write()->PutServer(Uuid(1), "mx1.b.example", {"b.example"});
    mirror_.index().Write()->PutPin(Uuid(2), "mx1.b.example", pin);
    mirror_.index().Write()->PutDomainPolicy(
        Uuid(3), {.domain = "c.example", .send = SecureMode::kEnforce});
    mirror_.MarkCurrent(clock_.Now(), /*live=*/false);
  }

  testing::FakeClock clock_;
  Mirror mirror_;
  ReadOnlyDirectory directory_;
  TrustService service_;
  const testing::TestCert cert_;
};

TEST_F(ReadOnlyDirectoryTest, AnswersFromTheMirror) {
  LoadComputer();
  const absl::StatusOr<VerifyResult> verified =
      service_.Verify({.certificate_der = cert_.der,
                       .expected_server = "mx1.b.example",
                       .expected_domain = "b.example"});
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->verdict, Verdict::kTrusted);

  const absl::StatusOr<std::vector<ServerRecord>> listed =
      service_.List({.domain = "b.example"});
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_THAT(*listed, SizeIs(1));
  EXPECT_EQ((*listed)[0].name, "mx1.b.example");
  ASSERT_THAT((*listed)[0].pins, SizeIs(1));
  EXPECT_TRUE((*listed)[0].pins[0].der.empty());  // Not kept.

  const absl::StatusOr<std::optional<ServerRecord>> server =
      directory_.GetServer("mx1.b.example");
  ASSERT_TRUE(server.ok() && server->has_value());
  EXPECT_THAT((*server)->domains, ElementsAre("b.example"));
  EXPECT_FALSE(directory_.GetServer("mx2.b.example")->has_value());

  const absl::StatusOr<std::vector<DomainPolicy>> policies =
      service_.ListDomainPolicies("");
  ASSERT_TRUE(policies.ok()) << policies.status();
  ASSERT_THAT(*policies, SizeIs(1));
  EXPECT_EQ((*policies)[0].domain, "c.example");
}

TEST_F(ReadOnlyDirectoryTest, UnavailableWhileTheMirrorDoesNotServe) {
  EXPECT_TRUE(absl::IsUnavailable(
      service_.Verify({.certificate_der = cert_.der}).status()));
  EXPECT_TRUE(absl::IsUnavailable(directory_.ListServers({}).status()));
  LoadComputer();
  clock_.Set(clock_.Now() + absl::Minutes(6));
  EXPECT_TRUE(absl::IsUnavailable(
      service_.Verify({.certificate_der = cert_.der}).status()));
  EXPECT_TRUE(
      absl::IsUnavailable(directory_.GetServer("mx1.b.example").status()));
  EXPECT_TRUE(
      absl::IsUnavailable(directory_.GetDomainPolicy("c.example").status()));
}

TEST_F(ReadOnlyDirectoryTest, RefusesEveryWrite) {
  LoadComputer();
  const testing::TestCert other =
      testing::MakeTestCert({.not_before = clock_.Now() - absl::Hours(1),
                             .not_after = clock_.Now() + absl::Hours(1)});
  const std::vector<absl::Status> refused = {
      service_
          .Publish({.server = "mx2.b.example",
                    .domains = {"b.example"},
                    .certificate_der = other.der})
          .status(),
      service_
          .Publish({.server = "mx1.b.example", .certificate_der = other.der})
          .status(),
      service_.Unpublish({.certificate_der = cert_.der}).status(),
      service_
          .SetDomainPolicy(
              {.domain = "d.example", .send = SecureMode::kEnforce})
          .status(),
      service_
          .SetDomainPolicy({.domain = "c.example", .send = SecureMode::kOff})
          .status(),
      directory_.AddDomains("mx1.b.example", {"d.example"}),
      directory_.UpdatePin("mx1.b.example", PinRecord()),
      directory_.RemoveServer("mx1.b.example"),
  };
  for (const absl::Status& status : refused) {
    EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
    EXPECT_THAT(
        status.message(),
        HasSubstr(absl::StrCat("the directory is mapped read-only (", kReason,
                               "); publish with the directory's own "
                               "tools")));
  }
  // Nothing changed.
  EXPECT_THAT(mirror_.index().Read()->FindServers({}), SizeIs(1));
  EXPECT_EQ(mirror_.index().Read()->Counts().pins, 1u);
  EXPECT_TRUE(mirror_.index().Read()->GetDomainPolicy("c.example").has_value());
}

}  // namespace
}  // namespace dtrust
