// LdapSyncSource following a real slapd with the syncprov overlay.
#include "server/ldap/ldap_sync_source.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "tests/server/ldap/ldap_directory_fixture.h"
#include "tests/testing/eventually.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::Eventually;
using ::dtrust::testing::LdapDirectoryFixture;
using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::SlapdFixture;
using ::dtrust::testing::TestCert;
using ::testing::SizeIs;

constexpr char kServer[] = "mx1.org-b.example";
constexpr char kDomain[] = "org-b.example";

PinRecord PinFor(const TestCert& cert) {
  absl::StatusOr<Certificate> parsed = Certificate::FromDer(cert.der);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  PinRecord pin;
  pin.cert_sha256 = parsed->sha256();
  pin.spki_sha256 = parsed->spki_sha256();
  pin.not_before = parsed->not_before();
  pin.not_after = parsed->not_after();
  pin.subject = parsed->subject();
  pin.der = parsed->der();
  return pin;
}

class LdapSyncSourceTest : public LdapDirectoryFixture {
 protected:
  // Reconnects after `backoff` (jittered: half to all of it).
  void StartSource(absl::Duration backoff = absl::Milliseconds(100)) {
    StartSourceOn(Options(), backoff);
  }
  void StartSourceOn(const LdapOptions& ldap,
                     absl::Duration backoff = absl::Milliseconds(100)) {
    LdapSyncOptions options;
    options.ldap = ldap;
    options.probe_interval = absl::Milliseconds(200);
    options.ldap.timeout = absl::Seconds(1);
    options.min_backoff = backoff;
    options.max_backoff = backoff;
    absl::StatusOr<std::unique_ptr<LdapSyncSource>> source =
        LdapSyncSource::Start(options, &mirror_, Clock::Real());
    ASSERT_TRUE(source.ok()) << source.status();
    source_ = *std::move(source);
  }

  bool Published(const TestCert& cert) {
    const Sha256Digest digest = Sha256Digest::Of(cert.der);
    return !mirror_.index().Read()->FindByDigest(&digest, nullptr).empty();
  }

  Mirror mirror_{{.mode = SyncMode::kRefreshAndPersist}, Clock::Real()};
  std::unique_ptr<LdapSyncSource> source_;
};

TEST_F(LdapSyncSourceTest, LoadsWhatIsThereThenFollowsChanges) {
  Connect();
  const TestCert before = MakeTestCert({.common_name = kServer});
  ASSERT_TRUE(directory_->CreateServer(kServer, {kDomain}).ok());
  ASSERT_TRUE(directory_->AddPin(kServer, PinFor(before)).ok());
  ASSERT_TRUE(
      directory_
          ->PutDomainPolicy({.domain = kDomain, .send = SecureMode::kEnforce})
          .ok());

  StartSource();
  ASSERT_TRUE(Eventually([&] { return mirror_.Status().serving; }));
  EXPECT_TRUE(Published(before));
  EXPECT_THAT(mirror_.index().Read()->FindServers({.domain = kDomain}),
              SizeIs(1));
  EXPECT_TRUE(mirror_.index().Read()->GetDomainPolicy(kDomain).has_value());
  EXPECT_EQ(mirror_.SnapshotAge(), absl::ZeroDuration());
  EXPECT_EQ(mirror_.Status().uri, slapd_->uri());

  // Changes made by others (not through this mirror) arrive by push.
  const TestCert after = MakeTestCert({.common_name = kServer});
  ASSERT_TRUE(directory_->AddPin(kServer, PinFor(after)).ok());
  EXPECT_TRUE(Eventually([&] { return Published(after); }));
  ASSERT_TRUE(
      directory_->RemovePin(kServer, Sha256Digest::Of(before.der)).ok());
  EXPECT_TRUE(Eventually([&] { return !Published(before); }));
  ASSERT_TRUE(directory_->RemoveDomainPolicy(kDomain).ok());
  EXPECT_TRUE(Eventually([&] {
    return !mirror_.index().Read()->GetDomainPolicy(kDomain).has_value();
  }));
  ASSERT_TRUE(directory_->RemovePin(kServer, Sha256Digest::Of(after.der)).ok());
  ASSERT_TRUE(directory_->RemoveServer(kServer).ok());
  EXPECT_TRUE(Eventually(
      [&] { return mirror_.index().Read()->FindServers({}).empty(); }));
}

TEST_F(LdapSyncSourceTest,
       NeverIndexesAPinWhoseDigestsDoNotMatchItsCertificate) {
  Connect();
  ASSERT_TRUE(directory_->CreateServer(kServer, {kDomain}).ok());
  StartSource();
  ASSERT_TRUE(Eventually([&] { return mirror_.Status().serving; }));

  // Stored under the digests of `claimed`, holding `actual`'s DER.
  const TestCert claimed = MakeTestCert({.common_name = kServer});
  const TestCert actual = MakeTestCert({.common_name = kServer});
  const PinRecord pin = PinFor(claimed);
  const std::string der_base64 = absl::Base64Escape(actual.der);
  ASSERT_TRUE(slapd_
                  ->LdapModify(absl::StrCat(
                      "dn: dtrustCertSha256=", pin.cert_sha256.ToHex(),
                      ",cn=", kServer, ",", ServersDn(),
                      "\nchangetype: add\nobjectClass: dtrustPinnedCertificate"
                      "\ndtrustCertSha256: ",
                      pin.cert_sha256.ToHex(),
                      "\ndtrustSpkiSha256: ", pin.spki_sha256.ToHex(),
                      "\ndtrustPinKind: certificate\nuserCertificate;binary:: ",
                      der_base64, "\n"))
                  .ok());
  // A real pin published after it shows the forged one was processed.
  const TestCert real = MakeTestCert({.common_name = kServer});
  ASSERT_TRUE(directory_->AddPin(kServer, PinFor(real)).ok());
  ASSERT_TRUE(Eventually([&] { return Published(real); }));
  EXPECT_FALSE(Published(claimed));
  EXPECT_FALSE(Published(actual));
  EXPECT_EQ(mirror_.index().Read()->Counts().pins, 1u);
}

TEST_F(LdapSyncSourceTest, KeepsServingWhileDownAndCatchesUpFromItsCookie) {
  Connect();
  const TestCert kept = MakeTestCert({.common_name = kServer});
  const TestCert deleted = MakeTestCert({.common_name = kServer});
  ASSERT_TRUE(directory_->CreateServer(kServer, {kDomain}).ok());
  ASSERT_TRUE(directory_->AddPin(kServer, PinFor(kept)).ok());
  ASSERT_TRUE(directory_->AddPin(kServer, PinFor(deleted)).ok());
  // Long enough a backoff for the changes below to be made while away.
  StartSource(absl::Seconds(3));
  ASSERT_TRUE(Eventually([&] { return mirror_.Status().serving; }));

  ASSERT_TRUE(slapd_->Stop().ok());
  ASSERT_TRUE(Eventually([&] { return !mirror_.Status().connected; }));
  EXPECT_TRUE(mirror_.Status().serving);  // Within --max-staleness.
  EXPECT_GT(*mirror_.SnapshotAge(), absl::ZeroDuration());
  EXPECT_TRUE(Published(kept));

  // Changed while this consumer is away (it retries 1.5 to 3 s after losing
  // the connection): its refresh from the cookie must bring the addition
  // and the deletion (a delete phase from syncprov's session log, or a
  // present phase in which the deleted entry is not confirmed).
  ASSERT_TRUE(slapd_->Restart().ok());
  Connect();
  ASSERT_TRUE(
      directory_->RemovePin(kServer, Sha256Digest::Of(deleted.der)).ok());
  const TestCert added = MakeTestCert({.common_name = kServer});
  ASSERT_TRUE(directory_->AddPin(kServer, PinFor(added)).ok());

  // Caught up: the refresh is done and the mirror live again.
  EXPECT_TRUE(Eventually([&] {
    return mirror_.SnapshotAge() == absl::ZeroDuration() && Published(added) &&
           !Published(deleted);
  }));
  EXPECT_TRUE(Published(kept));
  EXPECT_TRUE(mirror_.Status().connected);
}

// The directory was rebuilt while dtrustd was away (restored from an
// export, or dtrustd fails over to a server that is no replica): its cookie
// names a state the provider cannot resume from. Whatever the provider does
// about it, the mirror must end up holding exactly the rebuilt content -
// never a pin that is gone. Parameter: the provider has syncprov-reloadhint.
class LdapSyncSourceStaleCookieTest
    : public LdapSyncSourceTest,
      public ::testing::WithParamInterface<bool> {
 protected:
  // Follows slapd_ until it stops, then a rebuilt directory whose every
  // change is newer than the cookie from slapd_. Returns what was logged
  // from the stop until the mirror converged.
  std::string FailOverToARebuiltDirectory() {
    Connect();
    const TestCert gone = MakeTestCert({.common_name = kServer});
    EXPECT_TRUE(directory_->CreateServer(kServer, {kDomain}).ok());
    EXPECT_TRUE(directory_->AddPin(kServer, PinFor(gone)).ok());

    absl::StatusOr<std::unique_ptr<SlapdFixture>> rebuilt =
        SlapdFixture::Start({.reload_hint = GetParam()});
    EXPECT_TRUE(rebuilt.ok()) << rebuilt.status();
    if (!rebuilt.ok()) return "";
    LdapOptions rebuilt_options = Options();
    rebuilt_options.uris = {(*rebuilt)->uri()};
    LdapOptions both = Options();
    both.uris = {slapd_->uri(), (*rebuilt)->uri()};
    StartSourceOn(both);
    EXPECT_TRUE(Eventually([&] { return Published(gone); }));

    // Written after the cookie was issued: every entryCSN is newer.
    absl::StatusOr<std::unique_ptr<LdapDirectory>> rebuilt_directory =
        LdapDirectory::Connect(rebuilt_options);
    EXPECT_TRUE(rebuilt_directory.ok()) << rebuilt_directory.status();
    if (!rebuilt_directory.ok()) return "";
    EXPECT_TRUE((*rebuilt_directory)->CreateServer(kServer, {kDomain}).ok());
    EXPECT_TRUE((*rebuilt_directory)->AddPin(kServer, PinFor(added_)).ok());

    const uint64_t epoch_before = mirror_.changes().Current().epoch;
    ::testing::internal::CaptureStderr();
    EXPECT_TRUE(slapd_->Stop().ok());
    const bool converged = Eventually(
        [&] {
          return mirror_.Status().connected &&
                 mirror_.SnapshotAge() == absl::ZeroDuration() &&
                 Published(added_) && !Published(gone);
        },
        absl::Seconds(10));
    std::string logged = ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(converged) << logged;
    EXPECT_EQ(mirror_.index().Read()->Counts().pins, 1u);
    EXPECT_EQ(mirror_.Status().uri, (*rebuilt)->uri());
    // e-syncRefreshRequired brings the whole content again: a new epoch, so
    // Watch clients take a new snapshot instead of a burst of changes. A
    // provider reloading unasked sends the differences, which go out as
    // changes in the same epoch.
    if (GetParam()) {
      EXPECT_NE(mirror_.changes().Current().epoch, epoch_before);
    } else {
      EXPECT_EQ(mirror_.changes().Current().epoch, epoch_before);
    }
    source_.reset();  // Before `rebuilt` goes.
    return logged;
  }

  const TestCert added_ = MakeTestCert({.common_name = kServer});
};

TEST_P(LdapSyncSourceStaleCookieTest, TheMirrorHoldsExactlyTheRebuiltContent) {
  const std::string logged = FailOverToARebuiltDirectory();
  if (GetParam()) {
    // syncprov-reloadhint: slapd answers the stale cookie with
    // e-syncRefreshRequired; the source drops it and reloads at once.
    EXPECT_THAT(logged, ::testing::HasSubstr("e-syncRefreshRequired"));
  }
}

INSTANTIATE_TEST_SUITE_P(ReloadHint, LdapSyncSourceStaleCookieTest,
                         ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "RefreshRequired"
                                             : "ProviderReloadsUnasked";
                         });

TEST_F(LdapSyncSourceTest, AHungDirectoryIsDetectedByTheProbe) {
  Connect();
  StartSource();
  ASSERT_TRUE(Eventually([&] { return mirror_.Status().serving; }));
  ASSERT_TRUE(slapd_->Pause().ok());
  // Probe after 200 ms of silence, no answer within the 1 s timeout.
  EXPECT_TRUE(Eventually([&] { return !mirror_.Status().connected; },
                         absl::Seconds(4)));
  EXPECT_THAT(mirror_.Status().last_error, ::testing::HasSubstr("answer"));
  ASSERT_TRUE(slapd_->Resume().ok());
  EXPECT_TRUE(Eventually([&] { return mirror_.Status().connected; }));
}

TEST_F(LdapSyncSourceTest, ColdStartWithoutDirectoryIsNotServing) {
  Connect();
  ASSERT_TRUE(slapd_->Stop().ok());
  StartSource();
  // Not serving once the source tried the directory and failed.
  ASSERT_TRUE(Eventually([&] { return !mirror_.Status().last_error.empty(); }));
  EXPECT_FALSE(mirror_.Status().serving);
  EXPECT_TRUE(absl::IsUnavailable(mirror_.CheckServing()));
  ASSERT_TRUE(slapd_->Restart().ok());
  EXPECT_TRUE(Eventually([&] { return mirror_.Status().serving; }));
}

}  // namespace
}  // namespace dtrust
