// The poll mode: entry ids and change thresholds as pure functions, then
// LdapPoller against a real slapd without content sync (no syncprov), read
// by the dtrust schema and by a foreign mapping.
#include "server/ldap/ldap_poller.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/status_macros.h"
#include "server/core/certificate.h"
#include "server/core/digest.h"
#include "server/ldap/change_cursor.h"
#include "server/ldap/entry_id.h"
#include "server/ldap/entry_mapper.h"
#include "server/mirror/mirror.h"
#include "server/mirror/mirrored_directory.h"
#include "tests/server/ldap/ldap_directory_fixture.h"
#include "tests/testing/eventually.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::Eventually;
using ::dtrust::testing::FakeClock;
using ::dtrust::testing::LdapDirectoryFixture;
using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::SlapdFixture;
using ::dtrust::testing::TestCert;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// --- Entry ids --------------------------------------------------------------

EntryUuid Bytes(std::initializer_list<uint8_t> bytes) {
  EntryUuid uuid{};
  std::copy(bytes.begin(), bytes.end(), uuid.begin());
  return uuid;
}

const EntryUuid kUuid = Bytes({0x3f, 0x25, 0x04, 0xe0, 0x4f, 0x89, 0x11, 0xd3,
                               0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01});

EntryUuid FirstHalfOfSha256(absl::string_view data) {
  const Sha256Digest digest = Sha256Digest::Of(data);
  EntryUuid uuid{};
  std::copy_n(digest.bytes().begin(), uuid.size(), uuid.begin());
  return uuid;
}

TEST(EntryIdTest, SixteenRawBytesAreTheUuid) {
  // Active Directory's objectGUID.
  const std::string guid(reinterpret_cast<const char*>(kUuid.data()), 16);
  EXPECT_EQ(EntryIdToUuid(guid), kUuid);
}

TEST(EntryIdTest, TextUuidsAreParsed) {
  // OpenLDAP's entryUUID, in either case.
  EXPECT_EQ(EntryIdToUuid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"), kUuid);
  EXPECT_EQ(EntryIdToUuid("3F2504E0-4F89-11D3-9A0C-0305E82C3301"), kUuid);
  // 389-DS's nsUniqueId groups the same 32 digits differently.
  EXPECT_EQ(EntryIdToUuid("3f2504e0-4f8911d3-9a0c0305-e82c3301"), kUuid);
}

TEST(EntryIdTest, AnythingElseIsHashed) {
  for (const char* value :
       {"ipaUniqueID-42", "3f2504e0-4f89-11d3-9a0c-0305e82c330g",  // Not hex.
        "3f2504e0-4f89-11d3-9a0c-0305e82c33011",                   // 33 digits.
        "-3f2504e04f8911d39a0c0305e82c3301", ""}) {
    EXPECT_EQ(EntryIdToUuid(value), FirstHalfOfSha256(value)) << value;
  }
  // All zero is the mirror's "unknown": never an entry's uuid.
  const std::string zero = "00000000-0000-0000-0000-000000000000";
  EXPECT_EQ(EntryIdToUuid(zero), FirstHalfOfSha256(zero));
  EXPECT_EQ(EntryIdToUuid(std::string(16, '\0')),
            FirstHalfOfSha256(std::string(16, '\0')));
}

TEST(EntryIdTest, ChildUuidsDependOnParentAndKey) {
  const EntryUuid other = EntryIdToUuid("other");
  EXPECT_EQ(ChildUuid(kUuid, "a"), ChildUuid(kUuid, "a"));
  EXPECT_NE(ChildUuid(kUuid, "a"), ChildUuid(kUuid, "b"));
  EXPECT_NE(ChildUuid(kUuid, "a"), ChildUuid(other, "a"));
  EXPECT_NE(ChildUuid(kUuid, "a"), kUuid);
}

// --- Change thresholds ------------------------------------------------------

TEST(ChangeCursorTest, ModifyTimestampLagsTheNewestSeenByTheSearchTime) {
  ChangeCursor cursor(ChangeAttribute::kModifyTimestamp);
  EXPECT_EQ(cursor.RootDseAttribute(), "");
  EXPECT_EQ(cursor.Filter(), std::nullopt);  // A full load first.

  ASSERT_TRUE(cursor.BeginPoll({}).ok());
  cursor.See("20260102030400Z");
  cursor.See("20260102030405Z");
  cursor.See("yesterday");  // Ignored.
  cursor.EndPoll(absl::Milliseconds(1200));
  // 03:04:05, less 2 s (the search time rounded up), less 1 s.
  EXPECT_EQ(cursor.Filter(), "(modifyTimestamp>=20260102030402Z)");

  // Nothing changed: the threshold stays.
  ASSERT_TRUE(cursor.BeginPoll({}).ok());
  cursor.EndPoll(absl::Milliseconds(10));
  EXPECT_EQ(cursor.Filter(), "(modifyTimestamp>=20260102030402Z)");

  // It never moves back ...
  ASSERT_TRUE(cursor.BeginPoll({}).ok());
  cursor.See("20260102030402Z");
  cursor.EndPoll(absl::Milliseconds(10));
  EXPECT_EQ(cursor.Filter(), "(modifyTimestamp>=20260102030402Z)");

  // ... and counts whole seconds (Active Directory writes ".0Z").
  ASSERT_TRUE(cursor.BeginPoll({}).ok());
  cursor.See("20260102030410.7Z");
  cursor.EndPoll(absl::ZeroDuration());
  EXPECT_EQ(cursor.Filter(), "(modifyTimestamp>=20260102030409Z)");

  cursor.Reset();
  EXPECT_EQ(cursor.Filter(), std::nullopt);
}

TEST(ChangeCursorTest, UsnChangedStartsAfterTheUsnCommittedBeforeTheSearch) {
  ChangeCursor cursor(ChangeAttribute::kUsnChanged);
  EXPECT_EQ(cursor.RootDseAttribute(), "highestCommittedUSN");
  const absl::Status missing = cursor.BeginPoll({});
  EXPECT_TRUE(absl::IsFailedPrecondition(missing)) << missing;
  EXPECT_THAT(missing.message(), HasSubstr("highestCommittedUSN"));
  EXPECT_FALSE(cursor.BeginPoll({"12x"}).ok());

  ASSERT_TRUE(cursor.BeginPoll({"12345"}).ok());
  cursor.See("99999");  // What the search saw does not matter.
  EXPECT_EQ(cursor.Filter(), std::nullopt);  // Not before the poll completed.
  cursor.EndPoll(absl::Seconds(3));
  EXPECT_EQ(cursor.Filter(), "(uSNChanged>=12346)");
}

// --- LdapPoller against slapd -----------------------------------------------

constexpr char kServer[] = "mx1.org-b.example";
constexpr char kDomain[] = "org-b.example";
constexpr absl::Duration kInterval = absl::Milliseconds(100);

PinRecord PinFor(const TestCert& cert) {
  absl::StatusOr<Certificate> parsed = Certificate::FromDer(cert.der);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return PinRecord{parsed->sha256(),      parsed->spki_sha256(),
                   PinKind::kCertificate, parsed->not_before(),
                   parsed->not_after(),   parsed->subject(),
                   parsed->der()};
}

std::vector<std::string> Names(const std::vector<ServerRecord>& servers) {
  std::vector<std::string> names;
  for (const ServerRecord& server : servers) names.push_back(server.name);
  return names;
}

std::string Base64(const std::string& bytes) {
  return absl::Base64Escape(bytes);
}

class LdapPollerTest : public LdapDirectoryFixture {
 protected:
  // A directory without content sync: what polling is for.
  void SetUp() override {
    SlapdFixture::Options options;
    options.content_sync = false;
    StartSlapd(options);
  }

  void StartPoller(const DirectoryMapping& mapping) {
    absl::StatusOr<std::unique_ptr<LdapPoller>> poller =
        LdapPoller::Start(Options(), mapping, kInterval, &mirror_, &clock_);
    ASSERT_TRUE(poller.ok()) << poller.status();
    poller_ = *std::move(poller);
  }

  // Polls every 100 ms, a full load only at the start (and on reconnects):
  // everything else goes through change detection.
  static DirectoryMapping ChangesOnly() {
    DirectoryMapping mapping;
    mapping.full_load_every = 1000000;
    return mapping;
  }

  // Waits up to 10 s for `condition`; false (and a failure naming `what`)
  // if it never holds.
  bool WaitFor(const std::string& what,
               const std::function<bool()>& condition) {
    if (Eventually(condition, absl::Seconds(10))) return true;
    ADD_FAILURE() << "timed out waiting for " << what
                  << "; mirror error: " << mirror_.Status().last_error;
    return false;
  }

  bool Serving() { return mirror_.CheckServing().ok(); }

  // The servers the mirror has `cert` pinned for, by either digest.
  std::vector<std::string> ServersOf(const TestCert& cert,
                                     bool by_key = false) {
    const PinRecord pin = PinFor(cert);
    return Names(
        by_key
            ? mirror_.index().Read()->FindByDigest(nullptr, &pin.spki_sha256)
            : mirror_.index().Read()->FindByDigest(&pin.cert_sha256, nullptr));
  }

  void Publish(const std::string& server, const TestCert& cert) {
    const absl::Status created = directory_->CreateServer(server, {kDomain});
    ASSERT_TRUE(created.ok() || absl::IsAlreadyExists(created)) << created;
    ASSERT_TRUE(directory_->AddPin(server, PinFor(cert)).ok());
  }

  // The mirror's and the poller's clock: snapshot ages and the times of
  // MarkCurrent. (Polling intervals and the change window follow real time
  // and the directory's timestamps.)
  FakeClock clock_;
  Mirror mirror_{MirrorOptions{SyncMode::kPoll, absl::Minutes(5)}, &clock_};
  std::unique_ptr<LdapPoller> poller_;  // Stopped before the mirror goes.
};

TEST_F(LdapPollerTest, PagedSearchReadsEveryPage) {
  Connect();
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(
        directory_->CreateServer(absl::StrCat("mx", i, ".org-b.example"), {})
            .ok());
  }
  absl::StatusOr<std::unique_ptr<LdapConnection>> connection =
      LdapConnection::Open(Options());
  ASSERT_TRUE(connection.ok()) << connection.status();
  std::vector<std::string> dns;
  const absl::Status read =
      (*connection)
          ->SearchPaged(ServersDn(), LdapScope::kOneLevel, "(objectClass=*)",
                        {"cn"},
                        /*page_size=*/2, [&](const LdapEntry& entry) {
                          dns.push_back(entry.dn);
                          return absl::OkStatus();
                        });
  ASSERT_TRUE(read.ok()) << read;
  EXPECT_THAT(dns, SizeIs(7));

  // An error from the callback ends the search; the connection goes on.
  int calls = 0;
  const absl::Status stopped =
      (*connection)
          ->SearchPaged(ServersDn(), LdapScope::kOneLevel, "(objectClass=*)",
                        {"cn"}, 2, [&](const LdapEntry&) {
                          ++calls;
                          return absl::CancelledError("enough");
                        });
  EXPECT_TRUE(absl::IsCancelled(stopped)) << stopped;
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE((*connection)->lost());
  const absl::StatusOr<std::vector<LdapEntry>> again =
      (*connection)
          ->Search(ServersDn(), LdapScope::kOneLevel, "(objectClass=*)",
                   {"cn"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(*again, SizeIs(7));
}

TEST_F(LdapPollerTest, LoadsTheTreeThenFollowsPublishesAndDeletes) {
  Connect();
  const TestCert first = MakeTestCert();
  Publish(kServer, first);
  ASSERT_TRUE(directory_
                  ->PutDomainPolicy({.domain = "org-c.example",
                                     .send = SecureMode::kEnforce,
                                     .receive = SecureMode::kOff})
                  .ok());
  StartPoller(ChangesOnly());
  ASSERT_TRUE(WaitFor("the first load", [&] { return Serving(); }));
  EXPECT_THAT(ServersOf(first), ElementsAre(kServer));
  EXPECT_THAT(ServersOf(first, /*by_key=*/true), ElementsAre(kServer));
  EXPECT_THAT(mirror_.index().Read()->FindServers({.server = kServer}),
              ElementsAre(::testing::Field(&ServerRecord::domains,
                                           ElementsAre(kDomain))));
  ASSERT_TRUE(
      mirror_.index().Read()->GetDomainPolicy("org-c.example").has_value());
  const DirectoryStatus status = mirror_.Status();
  EXPECT_TRUE(status.connected);
  EXPECT_EQ(status.uri, slapd_->uri());
  EXPECT_EQ(status.mode, SyncMode::kPoll);

  // Published through another writer (the mirror learns it only by
  // polling): a new server, and a second certificate for the first one.
  const TestCert second = MakeTestCert();
  const TestCert third = MakeTestCert();
  Publish("mx2.org-b.example", second);
  ASSERT_TRUE(directory_->AddPin(kServer, PinFor(third)).ok());
  ASSERT_TRUE(WaitFor("the publishes", [&] {
    return !ServersOf(second).empty() && !ServersOf(third).empty();
  }));
  EXPECT_THAT(ServersOf(second), ElementsAre("mx2.org-b.example"));
  EXPECT_THAT(ServersOf(third), ElementsAre(kServer));

  // Deletions are found by the id listing.
  ASSERT_TRUE(directory_->RemovePin(kServer, PinFor(first).cert_sha256).ok());
  ASSERT_TRUE(directory_->RemoveDomainPolicy("org-c.example").ok());
  ASSERT_TRUE(WaitFor("the unpublish", [&] {
    return ServersOf(first).empty() && !mirror_.index()
                                            .Read()
                                            ->GetDomainPolicy("org-c.example")
                                            .has_value();
  }));
  EXPECT_THAT(ServersOf(third), ElementsAre(kServer));
  EXPECT_EQ(mirror_.index().Read()->Counts().pins, 2u);

  // A changed entry is read again: a domain policy switched to testing.
  ASSERT_TRUE(directory_
                  ->PutDomainPolicy({.domain = "org-d.example",
                                     .send = SecureMode::kEnforce,
                                     .receive = SecureMode::kEnforce})
                  .ok());
  ASSERT_TRUE(WaitFor("the new policy", [&] {
    return mirror_.index().Read()->GetDomainPolicy("org-d.example").has_value();
  }));
  ASSERT_TRUE(directory_
                  ->PutDomainPolicy({.domain = "org-d.example",
                                     .send = SecureMode::kTesting,
                                     .receive = SecureMode::kOff})
                  .ok());
  ASSERT_TRUE(WaitFor("the changed policy", [&] {
    const std::optional<DomainPolicy> policy =
        mirror_.index().Read()->GetDomainPolicy("org-d.example");
    return policy && policy->send == SecureMode::kTesting &&
           policy->receive == SecureMode::kOff;
  }));
}

TEST_F(LdapPollerTest, EntriesOlderThanTheChangeWindowStay) {
  Connect();
  const TestCert old = MakeTestCert();
  Publish(kServer, old);
  StartPoller(ChangesOnly());
  ASSERT_TRUE(WaitFor("the first load", [&] { return Serving(); }));
  // Past the change window (the newest timestamp seen, less the search
  // time and a second): the change searches no longer return these
  // entries, only the id listing vouches for them. The window follows the
  // directory's own timestamps, so this waits for slapd's clock.
  absl::SleepFor(absl::Milliseconds(3500));
  EXPECT_THAT(ServersOf(old), ElementsAre(kServer));
  EXPECT_EQ(mirror_.index().Read()->Counts().servers, 1u);

  const TestCert fresh = MakeTestCert();
  ASSERT_TRUE(directory_->AddPin(kServer, PinFor(fresh)).ok());
  ASSERT_TRUE(
      WaitFor("the new pin", [&] { return !ServersOf(fresh).empty(); }));
  EXPECT_THAT(ServersOf(old), ElementsAre(kServer));

  ASSERT_TRUE(directory_->RemovePin(kServer, PinFor(old).cert_sha256).ok());
  ASSERT_TRUE(
      WaitFor("the old pin to go", [&] { return ServersOf(old).empty(); }));
  EXPECT_THAT(ServersOf(fresh), ElementsAre(kServer));
}

TEST_F(LdapPollerTest,
       PinWhoseCertificateDoesNotMatchItsDigestsIsNeverIndexed) {
  Connect();
  const TestCert good = MakeTestCert();
  Publish(kServer, good);
  // An entry written behind dtrustd's back: the digests of one certificate
  // next to another certificate.
  const TestCert stored = MakeTestCert();
  const TestCert claimed = MakeTestCert();
  const PinRecord claimed_pin = PinFor(claimed);
  const std::string server_dn =
      absl::StrCat("cn=mx9.org-b.example,", ServersDn());
  ASSERT_TRUE(slapd_
                  ->LdapModify(absl::StrCat(
                      "dn: ", server_dn,
                      "\n"
                      "objectClass: dtrustTransportServer\n"
                      "cn: mx9.org-b.example\n"
                      "dtrustMailDomain: org-b.example\n"
                      "\n"
                      "dn: dtrustCertSha256=",
                      claimed_pin.cert_sha256.ToHex(), ",", server_dn,
                      "\n"
                      "objectClass: dtrustPinnedCertificate\n"
                      "dtrustCertSha256: ",
                      claimed_pin.cert_sha256.ToHex(),
                      "\n"
                      "dtrustSpkiSha256: ",
                      claimed_pin.spki_sha256.ToHex(),
                      "\n"
                      "dtrustPinKind: certificate\n"
                      "userCertificate;binary:: ",
                      Base64(stored.der), "\n"))
                  .ok());
  StartPoller(ChangesOnly());
  ASSERT_TRUE(WaitFor("the first load", [&] { return Serving(); }));
  EXPECT_THAT(ServersOf(good), ElementsAre(kServer));
  EXPECT_THAT(ServersOf(claimed), IsEmpty());
  EXPECT_THAT(ServersOf(claimed, /*by_key=*/true), IsEmpty());
  EXPECT_THAT(ServersOf(stored), IsEmpty());
  EXPECT_THAT(ServersOf(stored, /*by_key=*/true), IsEmpty());
  EXPECT_EQ(mirror_.index().Read()->Counts().pins, 1u);

  // A good pin whose certificate is swapped later drops out at the next
  // poll.
  const std::string good_dn =
      absl::StrCat("dtrustCertSha256=", PinFor(good).cert_sha256.ToHex(),
                   ",cn=", kServer, ",", ServersDn());
  ASSERT_TRUE(slapd_
                  ->LdapModify(absl::StrCat("dn: ", good_dn,
                                            "\n"
                                            "changetype: modify\n"
                                            "replace: userCertificate;binary\n"
                                            "userCertificate;binary:: ",
                                            Base64(stored.der), "\n-\n"))
                  .ok());
  ASSERT_TRUE(WaitFor("the tampered pin to go",
                      [&] { return ServersOf(good).empty(); }));
  EXPECT_THAT(ServersOf(stored), IsEmpty());
  EXPECT_EQ(mirror_.index().Read()->Counts().pins, 0u);
}

TEST_F(LdapPollerTest, KeepsItsDataWhileTheDirectoryIsDownAndCatchesUp) {
  Connect();
  const TestCert first = MakeTestCert();
  Publish(kServer, first);
  StartPoller(ChangesOnly());
  ASSERT_TRUE(WaitFor("the first load", [&] { return Serving(); }));

  ASSERT_TRUE(slapd_->Stop().ok());
  ASSERT_TRUE(WaitFor("the poller to notice",
                      [&] { return !mirror_.Status().connected; }));
  EXPECT_THAT(mirror_.Status().last_error, ::testing::Not(IsEmpty()));
  // The old data still answers (within --max-staleness) and ages.
  EXPECT_TRUE(Serving());
  EXPECT_THAT(ServersOf(first), ElementsAre(kServer));
  clock_.Set(clock_.Now() + 3 * kInterval);
  EXPECT_EQ(*mirror_.SnapshotAge(), 3 * kInterval);

  // Back: current again, and what changed meanwhile (here: by a writer that
  // got through first) arrives.
  ASSERT_TRUE(slapd_->Restart().ok());
  clock_.Set(clock_.Now() + kInterval);
  const absl::Time restarted = clock_.Now();
  Connect();
  const TestCert second = MakeTestCert();
  Publish(kServer, second);
  ASSERT_TRUE(WaitFor("the poller to catch up", [&] {
    const DirectoryStatus status = mirror_.Status();
    return status.connected && status.last_current &&
           *status.last_current >= restarted && !ServersOf(second).empty();
  }));
  EXPECT_TRUE(mirror_.Status().last_error.empty());
  EXPECT_THAT(ServersOf(first), ElementsAre(kServer));
}

TEST_F(LdapPollerTest, FailsOverToTheNextUri) {
  Connect();
  const TestCert cert = MakeTestCert();
  Publish(kServer, cert);
  // A URI nothing listens on first: the poller goes on to the next one.
  LdapOptions options = Options();
  options.uris = {"ldap://127.0.0.1:1/", slapd_->uri()};
  absl::StatusOr<std::unique_ptr<LdapPoller>> poller =
      LdapPoller::Start(options, ChangesOnly(), kInterval, &mirror_, &clock_);
  ASSERT_TRUE(poller.ok()) << poller.status();
  poller_ = *std::move(poller);
  ASSERT_TRUE(WaitFor("the first load", [&] { return Serving(); }));
  EXPECT_EQ(mirror_.Status().uri, slapd_->uri());
  EXPECT_THAT(ServersOf(cert), ElementsAre(kServer));
}

TEST_F(LdapPollerTest, AnEntryWithoutItsIdFailsThePoll) {
  Connect();
  Publish(kServer, MakeTestCert());
  DirectoryMapping mapping;
  mapping.id_attribute = "nsUniqueId";  // 389-DS's; slapd has none.
  StartPoller(mapping);
  ASSERT_TRUE(WaitFor("the failure", [&] {
    return absl::StrContains(mirror_.Status().last_error, "nsUniqueId");
  }));
  EXPECT_FALSE(Serving());  // Never an incomplete index.
}

TEST_F(LdapPollerTest, UsnChangedNeedsActiveDirectory) {
  Connect();
  DirectoryMapping mapping;
  mapping.change_attribute = ChangeAttribute::kUsnChanged;
  StartPoller(mapping);
  ASSERT_TRUE(WaitFor("the failure", [&] {
    return absl::StrContains(mirror_.Status().last_error,
                             "highestCommittedUSN");
  }));
  EXPECT_FALSE(Serving());
}

TEST_F(LdapPollerTest, RefusesUnusableMappings) {
  DirectoryMapping mapping;
  mapping.id_attribute = "entry UUID";
  EXPECT_TRUE(absl::IsInvalidArgument(
      LdapPoller::Start(Options(), mapping, kInterval, &mirror_, &clock_)
          .status()));
  mapping = DirectoryMapping();
  mapping.foreign = ForeignMapping{.server_filter = "objectClass=computer"};
  EXPECT_TRUE(absl::IsInvalidArgument(
      LdapPoller::Start(Options(), mapping, kInterval, &mirror_, &clock_)
          .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      LdapPoller::Start(Options(), DirectoryMapping(), absl::ZeroDuration(),
                        &mirror_, &clock_)
          .status()));
}

// A poll applies pages the directory produced before a write made through
// dtrustd after that write. The poll's steps (a full load: read, apply,
// confirm what was read, sweep) on entries as slapd returns them, with the
// writes placed between the read and the apply.
TEST_F(LdapPollerTest, WritesMadeDuringAPollAreNotUndoneByItsOlderPage) {
  Connect();
  const TestCert revoked = MakeTestCert();
  const TestCert republished = MakeTestCert();
  Publish(kServer, revoked);
  Publish(kServer, republished);
  ASSERT_TRUE(directory_
                  ->PutDomainPolicy(
                      {.domain = "org-c.example", .send = SecureMode::kEnforce})
                  .ok());
  absl::StatusOr<std::unique_ptr<EntryMapper>> mapper =
      EntryMapper::Create(DirectoryMapping(), slapd_->suffix());
  ASSERT_TRUE(mapper.ok()) << mapper.status();
  absl::StatusOr<std::unique_ptr<LdapConnection>> connection =
      LdapConnection::Open(Options());
  ASSERT_TRUE(connection.ok()) << connection.status();
  using Page = std::vector<std::pair<LdapEntry, EntryUuid>>;
  auto read_page = [&] {
    Page page;
    const absl::Status read =
        (*connection)
            ->SearchPaged(slapd_->suffix(), LdapScope::kSubtree,
                          (*mapper)->filter(), (*mapper)->attributes(),
                          LdapPoller::kPageSize,
                          [&](const LdapEntry& entry) -> absl::Status {
                            DTRUST_ASSIGN_OR_RETURN(const EntryUuid uuid,
                                                    (*mapper)->UuidOf(entry));
                            page.emplace_back(entry, uuid);
                            return absl::OkStatus();
                          });
    EXPECT_TRUE(read.ok()) << read;
    return page;
  };
  MirrorIndex& index = mirror_.index();
  auto poll = [&](const Page& page) {
    (*mapper)->BeginConfirm();
    std::vector<EntryUuid> present;
    for (const auto& [entry, uuid] : page) {
      (*mapper)->Apply(entry, uuid, index);
      (*mapper)->Confirm(uuid, &present);
    }
    index.Write()->BeginReload();
    for (const EntryUuid& uuid : present) index.Write()->MarkPresent(uuid);
    index.Write()->EndReload();
    (*mapper)->EndConfirm();
  };
  auto expect_writes_kept = [&](const PinRecord& windowed) {
    EXPECT_THAT(ServersOf(revoked), IsEmpty());
    const std::vector<ServerRecord> found =
        index.Read()->FindByDigest(&windowed.cert_sha256, nullptr);
    ASSERT_EQ(found.size(), 1u);
    ASSERT_EQ(found[0].pins.size(), 1u);
    EXPECT_EQ(found[0].pins[0].window, windowed.window);
    const std::optional<DomainPolicy> policy =
        index.Read()->GetDomainPolicy("org-c.example");
    ASSERT_TRUE(policy.has_value());
    EXPECT_EQ(policy->send, SecureMode::kTesting);
  };
  index.Write()->BeginSourceRead();
  poll(read_page());  // The first load.
  index.Write()->EndSourceRead();
  ASSERT_THAT(ServersOf(revoked), ElementsAre(kServer));
  MirroredDirectory writer(directory_.get(), &mirror_);

  index.Write()->BeginSourceRead();
  const Page older = read_page();
  // dtrust unpublish, a republish with a window, a Domain Security change.
  ASSERT_TRUE(writer.RemovePin(kServer, PinFor(revoked).cert_sha256).ok());
  PinRecord windowed = PinFor(republished);
  windowed.window.not_after = windowed.not_after - absl::Hours(1);
  ASSERT_TRUE(writer.UpdatePin(kServer, windowed).ok());
  ASSERT_TRUE(writer
                  .PutDomainPolicy(
                      {.domain = "org-c.example", .send = SecureMode::kTesting})
                  .ok());
  poll(older);
  index.Write()->EndSourceRead();
  expect_writes_kept(windowed);

  // The next poll reads what the writes left.
  index.Write()->BeginSourceRead();
  poll(read_page());
  index.Write()->EndSourceRead();
  expect_writes_kept(windowed);
  EXPECT_EQ(index.Read()->Counts().pins, 1u);
}

// A tree without the dtrust schema, as Active Directory has computers:
// here cosine `account` entries (uid, host) with pkiUser's
// userCertificate and domainRelatedObject's associatedDomain, and a
// `device` entry holding the Domain Security lists in `ou` (send) and `l`
// (receive), standing in for msExchTLSSendDomainSecureList and
// msExchTLSReceiveDomainSecureList.
class ForeignTreeTest : public LdapPollerTest {
 protected:
  std::string HostsDn() const {
    return absl::StrCat("ou=hosts,", slapd_->suffix());
  }
  std::string Mx1Dn() const { return absl::StrCat("uid=MX1$,", HostsDn()); }
  std::string ListsDn() const {
    return absl::StrCat("cn=domain-security,", HostsDn());
  }

  DirectoryMapping Mapping() const {
    DirectoryMapping mapping = ChangesOnly();
    ForeignMapping& foreign = mapping.foreign.emplace();
    foreign.server_filter = "(objectClass=account)";
    foreign.server_name_attribute = "host";
    foreign.certificate_attribute = "userCertificate;binary";
    foreign.domain_attribute = "associatedDomain";
    foreign.domain_list_dn = ListsDn();
    foreign.send_secure_attribute = "ou";
    foreign.receive_secure_attribute = "l";
    return mapping;
  }

  std::optional<DomainPolicy> Policy(const std::string& domain) {
    return mirror_.index().Read()->GetDomainPolicy(domain);
  }
};

// DER that slapd's certificate syntax accepts (the outer structure is
// right) but that is no certificate: its algorithm, names, validity and key
// are empty.
std::string HollowCertificate() {
  const char tbs[] = {0x30, 0x0d, 0x02, 0x01, 0x01, 0x30, 0x00, 0x30,
                      0x00, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00};
  std::string der = {0x30, 0x14};
  der.append(tbs, sizeof(tbs));
  der.append({0x30, 0x00, 0x03, 0x01, 0x00});
  return der;
}

TEST_F(ForeignTreeTest, CertificatesOnComputerEntriesArePinsWithTheirDigests) {
  const TestCert a = MakeTestCert({.common_name = "MX1 current"});
  const TestCert b = MakeTestCert({.common_name = "MX1 next"});
  ASSERT_TRUE(
      slapd_
          ->LdapModify(absl::StrCat(
              "dn: ", HostsDn(),
              "\n"
              "objectClass: organizationalUnit\n"
              "ou: hosts\n"
              "\n"
              "dn: ",
              Mx1Dn(),
              "\n"
              "objectClass: account\n"
              "objectClass: pkiUser\n"
              "objectClass: domainRelatedObject\n"
              "uid: MX1$\n"
              "host: MX1.Org-B.example\n"
              "associatedDomain: org-b.example\n"
              "associatedDomain: mail.org-b.example\n"
              "userCertificate;binary:: ",
              Base64(a.der),
              "\n"
              "userCertificate;binary:: ",
              Base64(b.der),
              "\n"
              "userCertificate;binary:: ",
              Base64(HollowCertificate()),
              "\n"
              "\n"
              // A computer without a certificate is no transport server.
              "dn: uid=WS7$,",
              HostsDn(),
              "\n"
              "objectClass: account\n"
              "uid: WS7$\n"
              "host: ws7.corp.example\n"
              "\n"
              "dn: ",
              ListsDn(),
              "\n"
              "objectClass: device\n"
              "cn: domain-security\n"
              "ou: org-b.example\n"
              "ou: Org-C.example\n"
              "l: org-b.example\n"
              "l: not a domain\n"))
          .ok());
  StartPoller(Mapping());
  ASSERT_TRUE(WaitFor("the first load", [&] { return Serving(); }));

  for (const TestCert* cert : {&a, &b}) {
    EXPECT_THAT(ServersOf(*cert), ElementsAre(kServer));
    EXPECT_THAT(ServersOf(*cert, /*by_key=*/true), ElementsAre(kServer));
  }
  const std::vector<ServerRecord> servers =
      mirror_.index().Read()->FindServers({});
  ASSERT_THAT(servers, SizeIs(1));  // Not ws7.
  EXPECT_EQ(servers[0].name, kServer);
  EXPECT_THAT(servers[0].domains,
              ElementsAre("mail.org-b.example", "org-b.example"));
  ASSERT_THAT(servers[0].pins, SizeIs(2));  // The hollow value is skipped.
  for (const PinRecord& pin : servers[0].pins) {
    EXPECT_EQ(pin.kind, PinKind::kCertificate);
    EXPECT_EQ(pin.provenance, PinProvenance::kAsserted);
  }
  const PinRecord a_pin = PinFor(a);
  const std::vector<ServerRecord> found =
      mirror_.index().Read()->FindByDigest(&a_pin.cert_sha256, nullptr);
  ASSERT_THAT(found, SizeIs(1));
  ASSERT_THAT(found[0].pins, SizeIs(1));
  EXPECT_EQ(found[0].pins[0].not_after,
            absl::FromUnixSeconds(absl::ToUnixSeconds(a_pin.not_after)));

  std::optional<DomainPolicy> org_b = Policy("org-b.example");
  ASSERT_TRUE(org_b.has_value());
  EXPECT_EQ(org_b->send, SecureMode::kEnforce);
  EXPECT_EQ(org_b->receive, SecureMode::kEnforce);
  std::optional<DomainPolicy> org_c = Policy("org-c.example");
  ASSERT_TRUE(org_c.has_value());
  EXPECT_EQ(org_c->send, SecureMode::kEnforce);
  EXPECT_EQ(org_c->receive, SecureMode::kOff);
  EXPECT_THAT(mirror_.index().Read()->ListDomainPolicies(), SizeIs(2));

  // The tree changes: a certificate is removed, a domain leaves the send
  // list.
  ASSERT_TRUE(slapd_
                  ->LdapModify(absl::StrCat("dn: ", Mx1Dn(),
                                            "\n"
                                            "changetype: modify\n"
                                            "delete: userCertificate;binary\n"
                                            "userCertificate;binary:: ",
                                            Base64(a.der),
                                            "\n"
                                            "-\n"
                                            "\n"
                                            "dn: ",
                                            ListsDn(),
                                            "\n"
                                            "changetype: modify\n"
                                            "delete: ou\n"
                                            "ou: org-c.example\n"
                                            "-\n"))
                  .ok());
  ASSERT_TRUE(WaitFor("the changes", [&] {
    return ServersOf(a).empty() && !Policy("org-c.example").has_value();
  }));
  EXPECT_THAT(ServersOf(b), ElementsAre(kServer));
  EXPECT_TRUE(Policy("org-b.example").has_value());

  // The computer goes: so do its server and its pins.
  ASSERT_TRUE(slapd_
                  ->LdapModify(absl::StrCat("dn: ", Mx1Dn(),
                                            "\n"
                                            "changetype: delete\n"))
                  .ok());
  ASSERT_TRUE(WaitFor("the deletion", [&] { return ServersOf(b).empty(); }));
  EXPECT_THAT(mirror_.index().Read()->FindServers({}), IsEmpty());
  EXPECT_EQ(mirror_.index().Read()->Counts().pins, 0u);
}

TEST_F(ForeignTreeTest, AMissingListEntryFailsThePoll) {
  ASSERT_TRUE(slapd_
                  ->LdapModify(absl::StrCat("dn: ", HostsDn(),
                                            "\n"
                                            "objectClass: organizationalUnit\n"
                                            "ou: hosts\n"))
                  .ok());
  StartPoller(Mapping());
  // No lists would let mail through unsecured: rather not serve at all.
  ASSERT_TRUE(WaitFor("the failure", [&] {
    return absl::StrContains(mirror_.Status().last_error, ListsDn());
  }));
  EXPECT_FALSE(Serving());
}

}  // namespace
}  // namespace dtrust
