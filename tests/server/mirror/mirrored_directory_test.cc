#include "server/mirror/mirrored_directory.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/trust_service.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_directory.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::testing::IsEmpty;
using ::testing::SizeIs;

class MirroredDirectoryTest : public ::testing::Test {
 protected:
  MirroredDirectoryTest()
      : clock_(absl::FromUnixSeconds(1'800'000'000)),
        mirror_({.mode = SyncMode::kRefreshAndPersist,
                 .max_staleness = absl::Minutes(5)},
                &clock_),
        mirrored_(&directory_, &mirror_),
        service_(&mirrored_, &clock_) {}

  absl::StatusOr<VerifyResult> Verify(const std::string& der) {
    return service_.Verify({.certificate_der = der});
  }

  testing::FakeClock clock_;
  testing::FakeDirectory directory_;
  Mirror mirror_;
  MirroredDirectory mirrored_;
  TrustService service_;
};

TEST_F(MirroredDirectoryTest, UnavailableUntilTheFirstLoad) {
  const absl::StatusOr<VerifyResult> result =
      Verify(testing::MakeTestCert({.not_before = clock_.Now() - absl::Hours(1),
                                    .not_after = clock_.Now() + absl::Hours(1)})
                 .der);
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_FALSE(mirror_.Status().serving);
  EXPECT_FALSE(mirror_.SnapshotAge().has_value());
  EXPECT_TRUE(
      absl::IsUnavailable(mirrored_.GetDomainPolicy("b.example").status()));
  EXPECT_TRUE(absl::IsUnavailable(
      mirrored_.FindServers({.domain = "b.example"}).status()));
}

TEST_F(MirroredDirectoryTest, WritesAreReadBackAtOnceFromTheMirror) {
  mirror_.MarkCurrent(clock_.Now(), /*live=*/true);
  const testing::TestCert cert =
      testing::MakeTestCert({.not_before = clock_.Now() - absl::Hours(1),
                             .not_after = clock_.Now() + absl::Hours(1)});
  ASSERT_TRUE(service_
                  .Publish({.server = "mx1.b.example",
                            .domains = {"b.example"},
                            .certificate_der = cert.der})
                  .ok());
  // The fake directory holds it too; the mirror got it without a sync.
  EXPECT_EQ(mirror_.index().Read()->Counts().pins, 1u);
  absl::StatusOr<VerifyResult> verified = Verify(cert.der);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->verdict, Verdict::kTrusted);
  EXPECT_THAT(*mirrored_.FindServers({.domain = "b.example"}), SizeIs(1));

  ASSERT_TRUE(service_.Unpublish({.certificate_der = cert.der}).ok());
  verified = Verify(cert.der);
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->verdict, Verdict::kNotPublished);
  EXPECT_THAT(*mirrored_.FindServers({}), IsEmpty());

  ASSERT_TRUE(service_
                  .SetDomainPolicy(
                      {.domain = "b.example", .send = SecureMode::kEnforce})
                  .ok());
  EXPECT_TRUE(mirror_.index().Read()->GetDomainPolicy("b.example").has_value());
  ASSERT_TRUE(
      service_
          .SetDomainPolicy({.domain = "b.example", .send = SecureMode::kOff})
          .ok());
  EXPECT_FALSE(
      mirror_.index().Read()->GetDomainPolicy("b.example").has_value());
}

TEST_F(MirroredDirectoryTest, ReadsDoNotTouchTheDirectory) {
  mirror_.MarkCurrent(clock_.Now(), /*live=*/true);
  directory_.SetUnavailable(true);
  const testing::TestCert cert = testing::MakeTestCert();
  const absl::StatusOr<VerifyResult> result = Verify(cert.der);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->verdict, Verdict::kNotPublished);
}

TEST_F(MirroredDirectoryTest, ServesForMaxStalenessAfterLosingTheDirectory) {
  mirror_.MarkConnected("ldap://one/");
  mirror_.MarkCurrent(clock_.Now(), /*live=*/true);
  EXPECT_EQ(mirror_.SnapshotAge(), absl::ZeroDuration());
  clock_.Set(clock_.Now() + absl::Minutes(10));
  EXPECT_EQ(mirror_.SnapshotAge(), absl::ZeroDuration());  // Still live.

  const absl::Time lost = clock_.Now();
  mirror_.MarkCurrent(lost, /*live=*/true);  // The session's last sign of life.
  mirror_.MarkDisconnected("ldap://one/: connection refused");
  clock_.Set(lost + absl::Minutes(5));
  EXPECT_EQ(mirror_.SnapshotAge(), absl::Minutes(5));
  EXPECT_TRUE(mirrored_.GetDomainPolicy("b.example").ok());
  const DirectoryStatus serving = mirror_.Status();
  EXPECT_TRUE(serving.serving);
  EXPECT_FALSE(serving.connected);
  EXPECT_EQ(serving.last_error, "ldap://one/: connection refused");

  clock_.Set(lost + absl::Minutes(5) + absl::Seconds(1));
  const absl::Status stale = mirrored_.GetDomainPolicy("b.example").status();
  EXPECT_TRUE(absl::IsUnavailable(stale)) << stale;
  EXPECT_THAT(std::string(stale.message()),
              ::testing::HasSubstr("--max-staleness"));
  EXPECT_FALSE(mirror_.Status().serving);

  mirror_.MarkConnected("ldap://two/");  // Failed over, refreshed.
  mirror_.MarkCurrent(clock_.Now(), /*live=*/true);
  EXPECT_TRUE(mirrored_.GetDomainPolicy("b.example").ok());
  EXPECT_EQ(mirror_.Status().uri, "ldap://two/");
}

TEST_F(MirroredDirectoryTest, PolledDataAgesFromThePoll) {
  const absl::Time polled = clock_.Now();
  mirror_.MarkCurrent(polled, /*live=*/false);
  clock_.Set(polled + absl::Seconds(30));
  EXPECT_EQ(mirror_.SnapshotAge(), absl::Seconds(30));
  EXPECT_EQ(mirror_.Status().last_current, polled);
}

// The health service follows these notifications instead of polling.
TEST_F(MirroredDirectoryTest, ListenersHearOfReadinessChangesOnly) {
  int notified = 0;
  const int id = mirror_.Subscribe([&] { ++notified; });
  mirror_.MarkConnected("ldap://one/");
  EXPECT_EQ(notified, 0);
  mirror_.MarkCurrent(clock_.Now(), /*live=*/true);  // The first load.
  EXPECT_EQ(notified, 1);
  EXPECT_FALSE(mirror_.Status().recheck_at.has_value());  // Live: no bound.
  for (int i = 0; i < 10; ++i) {  // Signs of life change nothing.
    clock_.Set(clock_.Now() + absl::Seconds(5));
    mirror_.MarkCurrent(clock_.Now(), /*live=*/true);
  }
  EXPECT_EQ(notified, 1);

  const absl::Time lost = clock_.Now();
  mirror_.MarkDisconnected("ldap://one/: connection refused");
  EXPECT_EQ(notified, 2);
  // The first moment past --max-staleness, when serving ends unannounced.
  EXPECT_EQ(mirror_.Status().recheck_at,
            lost + absl::Minutes(5) + absl::Nanoseconds(1));
  clock_.Set(*mirror_.Status().recheck_at);
  EXPECT_FALSE(mirror_.Status().serving);
  EXPECT_FALSE(mirror_.Status().recheck_at.has_value());

  mirror_.Unsubscribe(id);
  mirror_.MarkCurrent(clock_.Now(), /*live=*/true);
  EXPECT_EQ(notified, 2);
}

TEST_F(MirroredDirectoryTest, EachPollMovesTheRecheck) {
  int notified = 0;
  mirror_.Subscribe([&] { ++notified; });
  for (int poll = 1; poll <= 3; ++poll) {
    mirror_.MarkCurrent(clock_.Now(), /*live=*/false);
    EXPECT_EQ(notified, poll);
    EXPECT_EQ(mirror_.Status().recheck_at,
              clock_.Now() + absl::Minutes(5) + absl::Nanoseconds(1));
    clock_.Set(clock_.Now() + absl::Minutes(1));
  }
}

}  // namespace
}  // namespace dtrust
