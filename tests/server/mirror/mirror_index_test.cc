#include "server/mirror/mirror_index.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/mirror_test_data.h"

namespace dtrust {
namespace {

using ::dtrust::testing::TestPin;
using ::dtrust::testing::TestUuid;

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

Sha256Digest Digest(absl::string_view seed) { return Sha256Digest::Of(seed); }

std::vector<std::string> Names(const std::vector<ServerRecord>& servers) {
  std::vector<std::string> names;
  for (const ServerRecord& server : servers) names.push_back(server.name);
  return names;
}

TEST(MirrorIndexTest, FindsPinsByEitherDigestWithTheirServer) {
  MirrorIndex index;
  index.Write()->PutServer(TestUuid(1), "mx1.b.example",
                           {"b.example", "a.example"});
  PinRecord pin = TestPin("cert1");
  pin.kind = PinKind::kPublicKey;
  pin.provenance = PinProvenance::kPossessionProven;
  pin.publisher = "unix:";
  pin.window.not_after = absl::FromUnixSeconds(1'750'000'000);
  index.Write()->PutPin(TestUuid(2), "mx1.b.example", pin);

  const Sha256Digest cert = Digest("cert1");
  const Sha256Digest spki = Digest("key of cert1");
  for (const auto& [c, s] :
       std::vector<std::pair<const Sha256Digest*, const Sha256Digest*>>{
           {&cert, nullptr}, {nullptr, &spki}, {&cert, &spki}}) {
    const std::vector<ServerRecord> found = index.Read()->FindByDigest(c, s);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].name, "mx1.b.example");
    EXPECT_THAT(found[0].domains, ElementsAre("a.example", "b.example"));
    ASSERT_EQ(found[0].pins.size(), 1u);  // Once, though both digests match.
    const PinRecord& got = found[0].pins[0];
    EXPECT_EQ(got.cert_sha256, cert);
    EXPECT_EQ(got.spki_sha256, spki);
    EXPECT_EQ(got.kind, PinKind::kPublicKey);
    EXPECT_EQ(got.provenance, PinProvenance::kPossessionProven);
    EXPECT_EQ(got.publisher, "unix:");
    EXPECT_EQ(got.window, pin.window);
    EXPECT_EQ(got.not_before, pin.not_before);
    EXPECT_EQ(got.not_after, pin.not_after);
  }
  const Sha256Digest other = Digest("other");
  EXPECT_THAT(index.Read()->FindByDigest(&other, &other), IsEmpty());
  EXPECT_THAT(index.Read()->FindByDigest(nullptr, nullptr), IsEmpty());
}

TEST(MirrorIndexTest, OneCertificateForSeveralServers) {
  MirrorIndex index;
  for (int i = 0; i < 3; ++i) {
    index.Write()->PutPin(TestUuid(10 + i), absl::StrCat("mx", i, ".example"),
                          TestPin("shared"));
  }
  const Sha256Digest cert = Digest("shared");
  EXPECT_THAT(
      Names(index.Read()->FindByDigest(&cert, nullptr)),
      UnorderedElementsAre("mx0.example", "mx1.example", "mx2.example"));
  index.Write()->Remove(TestUuid(11));  // Neither the first nor the last added.
  EXPECT_THAT(Names(index.Read()->FindByDigest(&cert, nullptr)),
              UnorderedElementsAre("mx0.example", "mx2.example"));
  index.Write()->Remove(TestUuid(10));
  index.Write()->Remove(TestUuid(12));
  EXPECT_THAT(index.Read()->FindByDigest(&cert, nullptr), IsEmpty());
  EXPECT_EQ(index.Read()->Counts().pins, 0u);
}

TEST(MirrorIndexTest, PinBeforeItsServerAndServerRemoval) {
  MirrorIndex index;
  index.Write()->PutPin(TestUuid(2), "mx1.b.example",
                        TestPin("c"));  // Server entry later.
  index.Write()->PutServer(TestUuid(1), "mx1.b.example", {"b.example"});
  EXPECT_THAT(Names(index.Read()->FindServers({.domain = "b.example"})),
              ElementsAre("mx1.b.example"));
  EXPECT_EQ(index.Read()->Counts().servers, 1u);

  index.Write()->Remove(TestUuid(1));
  const Sha256Digest cert = Digest("c");
  EXPECT_THAT(index.Read()->FindByDigest(&cert, nullptr), IsEmpty());
  EXPECT_THAT(index.Read()->FindServers({.domain = "b.example"}), IsEmpty());
  EXPECT_EQ(index.Read()->Counts().servers, 0u);
}

TEST(MirrorIndexTest, ChangesReplaceTheEntryTheUuidNames) {
  MirrorIndex index;
  index.Write()->PutServer(TestUuid(1), "mx1.b.example", {"b.example"});
  index.Write()->PutServer(TestUuid(1), "mx1.b.example", {"c.example"});
  EXPECT_THAT(index.Read()->FindServers({.domain = "b.example"}), IsEmpty());
  EXPECT_THAT(Names(index.Read()->FindServers({.domain = "c.example"})),
              ElementsAre("mx1.b.example"));

  index.Write()->PutPin(TestUuid(2), "mx1.b.example", TestPin("old"));
  index.Write()->PutPin(TestUuid(2), "mx1.b.example",
                        TestPin("new"));  // Entry rewritten.
  const Sha256Digest old_cert = Digest("old");
  const Sha256Digest new_cert = Digest("new");
  EXPECT_THAT(index.Read()->FindByDigest(&old_cert, nullptr), IsEmpty());
  EXPECT_THAT(Names(index.Read()->FindByDigest(&new_cert, nullptr)),
              ElementsAre("mx1.b.example"));

  index.Write()->PutServer(TestUuid(1), "mx9.b.example",
                           {"c.example"});  // modrdn.
  EXPECT_THAT(Names(index.Read()->FindByDigest(&new_cert, nullptr)),
              ElementsAre("mx9.b.example"));
  EXPECT_THAT(index.Read()->FindServers({.server = "mx1.b.example"}),
              IsEmpty());
}

TEST(MirrorIndexTest, LocalWritesMeetTheirNotifications) {
  MirrorIndex index;
  index.Write()->AddServerDomains("mx1.b.example", {"b.example"});
  index.Write()->PutPinByName("mx1.b.example", TestPin("c"));
  // The directory's notifications for the same entries, with uuids.
  index.Write()->PutServer(TestUuid(1), "mx1.b.example", {"b.example"});
  index.Write()->PutPin(TestUuid(2), "mx1.b.example", TestPin("c"));
  EXPECT_EQ(index.Read()->Counts().pins, 1u);
  EXPECT_EQ(index.Read()->Counts().servers, 1u);

  index.Write()->RemovePinByName("mx1.b.example", Digest("c"));
  index.Write()->Remove(TestUuid(2));  // Its notification: already gone.
  index.Write()->RemoveServerByName("mx1.b.example");
  EXPECT_EQ(index.Read()->Counts().pins, 0u);
  EXPECT_EQ(index.Read()->Counts().servers, 0u);
}

TEST(MirrorIndexTest, ReloadRemovesWhatWasNotConfirmed) {
  MirrorIndex index;
  index.Write()->PutServer(TestUuid(1), "keep.example", {"b.example"});
  index.Write()->PutPin(TestUuid(2), "keep.example", TestPin("kept"));
  index.Write()->PutServer(TestUuid(3), "gone.example", {"b.example"});
  index.Write()->PutPin(TestUuid(4), "gone.example", TestPin("gone"));
  index.Write()->PutDomainPolicy(
      TestUuid(5), {.domain = "gone.example", .send = SecureMode::kEnforce});
  index.Write()->PutPinByName("local.example",
                              TestPin("local"));  // Not yet confirmed.

  index.Write()->BeginReload();
  index.Write()->MarkPresent(TestUuid(1));
  index.Write()->PutPin(TestUuid(2), "keep.example", TestPin("kept"));
  EXPECT_EQ(index.Write()->EndReload(), 3u);

  EXPECT_THAT(Names(index.Read()->FindServers({})),
              ElementsAre("keep.example", "local.example"));
  EXPECT_THAT(index.Read()->ListDomainPolicies(), IsEmpty());
  const Sha256Digest gone = Digest("gone");
  EXPECT_THAT(index.Read()->FindByDigest(&gone, nullptr), IsEmpty());
  EXPECT_EQ(index.Read()->Counts().pins, 2u);
}

TEST(MirrorIndexTest, DomainPolicies) {
  MirrorIndex index;
  index.Write()->PutDomainPolicy(TestUuid(1),
                                 {.domain = "b.example",
                                  .send = SecureMode::kEnforce,
                                  .receive = SecureMode::kTesting});
  index.Write()->PutDomainPolicyByName(
      {.domain = "a.example", .receive = SecureMode::kEnforce});
  ASSERT_EQ(index.Read()->ListDomainPolicies().size(), 2u);
  EXPECT_EQ(index.Read()->ListDomainPolicies()[0].domain, "a.example");
  const std::optional<DomainPolicy> b =
      index.Read()->GetDomainPolicy("b.example");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->send, SecureMode::kEnforce);
  EXPECT_EQ(b->receive, SecureMode::kTesting);

  // An entry with both directions off lists nothing but is still tracked.
  index.Write()->PutDomainPolicy(TestUuid(1), {.domain = "b.example"});
  EXPECT_FALSE(index.Read()->GetDomainPolicy("b.example").has_value());
  EXPECT_EQ(index.Read()->Counts().domain_policies, 1u);
  index.Write()->PutDomainPolicy(
      TestUuid(1), {.domain = "b.example", .send = SecureMode::kTesting});
  EXPECT_TRUE(index.Read()->GetDomainPolicy("b.example").has_value());
  index.Write()->Remove(TestUuid(1));
  EXPECT_FALSE(index.Read()->GetDomainPolicy("b.example").has_value());
  index.Write()->RemoveDomainPolicyByName("a.example");
  EXPECT_THAT(index.Read()->ListDomainPolicies(), IsEmpty());
  EXPECT_FALSE(index.Read()->GetDomainPolicy("unknown.example").has_value());
}

TEST(MirrorIndexTest, AUuidSeenAgainOnAnotherEntryReplacesTheStaleOne) {
  MirrorIndex index;
  index.Write()->PutPin(TestUuid(7), "mx1.example", TestPin("first"));
  index.Write()->PutPin(TestUuid(7), "mx2.example",
                        TestPin("second"));  // Missed delete.
  const Sha256Digest first = Digest("first");
  EXPECT_THAT(index.Read()->FindByDigest(&first, nullptr), IsEmpty());
  EXPECT_EQ(index.Read()->Counts().pins, 1u);
}

// --- Source reads: a poll's content against writes made during it ---------

std::vector<std::string> ServersOf(const MirrorIndex& index,
                                   absl::string_view cert) {
  const Sha256Digest digest = Digest(cert);
  return Names(index.Read()->FindByDigest(&digest, nullptr));
}

// The pins of `server`, by publisher (a field the tests change).
std::vector<std::string> Publishers(const MirrorIndex& index,
                                    absl::string_view server) {
  std::vector<std::string> publishers;
  for (const ServerRecord& record :
       index.Read()->FindServers({.server = std::string(server)})) {
    for (const PinRecord& pin : record.pins) {
      publishers.push_back(pin.publisher);
    }
  }
  return publishers;
}

PinRecord PublishedBy(absl::string_view cert, absl::string_view publisher) {
  PinRecord pin = TestPin(cert);
  pin.publisher = std::string(publisher);
  return pin;
}

TEST(MirrorIndexSourceReadTest, AnUnpublishDuringAReadIsNotUndoneByIt) {
  MirrorIndex index;
  index.Write()->PutServer(TestUuid(1), "mx1.example", {"b.example"});
  index.Write()->PutPin(TestUuid(2), "mx1.example", TestPin("revoked"));
  index.Write()->PutPin(TestUuid(3), "mx1.example",
                        PublishedBy("other", "old"));
  index.Write()->PutPin(TestUuid(4), "mx2.example", TestPin("elsewhere"));

  index.Write()->BeginSourceRead();
  index.Write()->RemovePinByName("mx1.example",
                                 Digest("revoked"));  // dtrust unpublish.
  // The read's page from before the unpublish, applied after it.
  index.Write()->PutPin(TestUuid(2), "mx1.example", TestPin("revoked"));
  EXPECT_THAT(ServersOf(index, "revoked"), IsEmpty());
  // What the read says about every other entry applies, the server's other
  // pin included.
  index.Write()->PutPin(TestUuid(3), "mx1.example",
                        PublishedBy("other", "new"));
  index.Write()->PutPin(TestUuid(5), "mx2.example", TestPin("added"));
  index.Write()->Remove(TestUuid(4));
  index.Write()->PutServer(TestUuid(1), "mx1.example", {"c.example"});
  EXPECT_THAT(Publishers(index, "mx1.example"), ElementsAre("new"));
  EXPECT_THAT(ServersOf(index, "added"), ElementsAre("mx2.example"));
  EXPECT_THAT(ServersOf(index, "elsewhere"), IsEmpty());
  EXPECT_THAT(Names(index.Read()->FindServers({.domain = "c.example"})),
              ElementsAre("mx1.example"));
  // The poll's reload: the unpublished pin is not listed.
  index.Write()->BeginReload();
  for (int present : {1, 3, 5}) index.Write()->MarkPresent(TestUuid(present));
  EXPECT_EQ(index.Write()->EndReload(), 0u);
  index.Write()->EndSourceRead();
  EXPECT_THAT(ServersOf(index, "revoked"), IsEmpty());
  EXPECT_EQ(index.Read()->Counts().pins, 2u);
}

TEST(MirrorIndexSourceReadTest, ARepublishDuringAReadKeepsItsPin) {
  MirrorIndex index;
  index.Write()->PutPin(TestUuid(1), "mx1.example", PublishedBy("c", "before"));
  index.Write()->BeginSourceRead();
  index.Write()->PutPinByName("mx1.example",
                              PublishedBy("c", "after"));  // UpdatePin.
  index.Write()->PutPin(TestUuid(1), "mx1.example", PublishedBy("c", "before"));
  index.Write()->Remove(
      TestUuid(1));  // E.g. an older read found the entry unusable.
  EXPECT_THAT(Publishers(index, "mx1.example"), ElementsAre("after"));
  index.Write()->EndSourceRead();
  // The entry keeps its uuid: the directory can still remove it.
  index.Write()->Remove(TestUuid(1));
  EXPECT_THAT(ServersOf(index, "c"), IsEmpty());
}

TEST(MirrorIndexSourceReadTest, ServersWrittenDuringAReadKeepTheirState) {
  MirrorIndex index;
  index.Write()->PutServer(TestUuid(1), "gone.example", {"b.example"});
  index.Write()->PutPin(TestUuid(2), "gone.example", TestPin("gone"));
  index.Write()->PutServer(TestUuid(3), "grown.example", {"b.example"});
  index.Write()->PutPin(TestUuid(4), "grown.example",
                        PublishedBy("grown", "old"));
  index.Write()->PutServer(TestUuid(5), "pinned.example", {"b.example"});

  index.Write()->BeginSourceRead();
  index.Write()->RemovePinByName("gone.example", Digest("gone"));
  index.Write()->RemoveServerByName("gone.example");
  index.Write()->AddServerDomains("grown.example", {"c.example"});
  index.Write()->PutPinByName("pinned.example", TestPin("fresh"));
  // The read's older content.
  index.Write()->PutServer(TestUuid(1), "gone.example", {"b.example"});
  index.Write()->PutPin(TestUuid(2), "gone.example", TestPin("gone"));
  index.Write()->PutPin(TestUuid(6), "gone.example",
                        TestPin("another"));  // Removed along.
  index.Write()->PutServer(TestUuid(3), "grown.example", {"b.example"});
  index.Write()->Remove(
      TestUuid(5));  // Would take the pin just published with it.
  // A pin of a server whose domains were written is content of its own.
  index.Write()->PutPin(TestUuid(4), "grown.example",
                        PublishedBy("grown", "new"));
  EXPECT_THAT(index.Read()->FindServers({.server = "gone.example"}), IsEmpty());
  EXPECT_THAT(ServersOf(index, "gone"), IsEmpty());
  EXPECT_THAT(ServersOf(index, "another"), IsEmpty());
  EXPECT_THAT(Names(index.Read()->FindServers({.domain = "c.example"})),
              ElementsAre("grown.example"));
  EXPECT_THAT(Publishers(index, "grown.example"), ElementsAre("new"));
  EXPECT_THAT(ServersOf(index, "fresh"), ElementsAre("pinned.example"));
  // Nor does the reload's sweep remove what was written (the server of
  // the new pin was not listed by this older read).
  index.Write()->BeginReload();
  for (int present : {3, 4}) index.Write()->MarkPresent(TestUuid(present));
  EXPECT_EQ(index.Write()->EndReload(), 0u);
  EXPECT_THAT(ServersOf(index, "fresh"), ElementsAre("pinned.example"));
  index.Write()->EndSourceRead();

  index.Write()->Remove(TestUuid(5));  // The next read's removal applies.
  EXPECT_THAT(ServersOf(index, "fresh"), IsEmpty());
}

TEST(MirrorIndexSourceReadTest, PoliciesWrittenDuringAReadKeepTheirState) {
  MirrorIndex index;
  index.Write()->PutDomainPolicy(TestUuid(1), {.domain = "a.example"});
  index.Write()->PutDomainPolicy(
      TestUuid(2), {.domain = "b.example", .receive = SecureMode::kEnforce});
  index.Write()->BeginSourceRead();
  index.Write()->PutDomainPolicyByName(
      {.domain = "a.example", .send = SecureMode::kEnforce});
  index.Write()->RemoveDomainPolicyByName("b.example");
  index.Write()->PutDomainPolicy(TestUuid(1), {.domain = "a.example"});
  index.Write()->Remove(TestUuid(1));
  index.Write()->PutDomainPolicy(
      TestUuid(2), {.domain = "b.example", .receive = SecureMode::kEnforce});
  index.Write()->PutDomainPolicy(
      TestUuid(3), {.domain = "c.example", .send = SecureMode::kTesting});
  index.Write()->EndSourceRead();
  ASSERT_EQ(index.Read()->ListDomainPolicies().size(), 2u);
  const std::optional<DomainPolicy> a =
      index.Read()->GetDomainPolicy("a.example");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->send, SecureMode::kEnforce);
  EXPECT_FALSE(index.Read()->GetDomainPolicy("b.example").has_value());
  EXPECT_TRUE(index.Read()->GetDomainPolicy("c.example").has_value());
}

TEST(MirrorIndexSourceReadTest, OnlyWritesMadeDuringTheReadHoldItBack) {
  MirrorIndex index;
  index.Write()->PutPin(TestUuid(1), "mx1.example", TestPin("c"));
  // Written before the read began: the read is the newer state (the pin
  // was published again meanwhile).
  index.Write()->RemovePinByName("mx1.example", Digest("c"));
  index.Write()->BeginSourceRead();
  index.Write()->PutPin(TestUuid(1), "mx1.example", TestPin("c"));
  EXPECT_THAT(ServersOf(index, "c"), ElementsAre("mx1.example"));
  index.Write()->EndSourceRead();

  // Written between two reads: recorded by neither.
  index.Write()->RemovePinByName("mx1.example", Digest("c"));
  index.Write()->BeginSourceRead();
  index.Write()->PutPin(TestUuid(1), "mx1.example", TestPin("c"));
  EXPECT_THAT(ServersOf(index, "c"), ElementsAre("mx1.example"));
  index.Write()->EndSourceRead();

  // Written during a read: forgotten when it ends.
  index.Write()->BeginSourceRead();
  index.Write()->RemovePinByName("mx1.example", Digest("c"));
  index.Write()->EndSourceRead();
  index.Write()->BeginSourceRead();
  index.Write()->PutPin(TestUuid(1), "mx1.example", TestPin("c"));
  EXPECT_THAT(ServersOf(index, "c"), ElementsAre("mx1.example"));
  index.Write()->EndSourceRead();
}

TEST(MirrorIndexSourceReadTest, ALocalWriteTakesTheUuidOfTheContentLeftAlone) {
  MirrorIndex index;
  index.Write()->BeginSourceRead();
  index.Write()->PutPinByName("mx1.example",
                              PublishedBy("c", "local"));  // No uuid.
  index.Write()->PutPin(TestUuid(7), "mx1.example", PublishedBy("c", "read"));
  EXPECT_THAT(Publishers(index, "mx1.example"), ElementsAre("local"));
  index.Write()->BeginReload();  // Not listed by this read: kept all the same.
  EXPECT_EQ(index.Write()->EndReload(), 0u);
  index.Write()->EndSourceRead();
  // A later read can delete it by that uuid: with none, only a full load
  // would ever find it again.
  index.Write()->BeginSourceRead();
  index.Write()->BeginReload();
  EXPECT_EQ(index.Write()->EndReload(), 1u);
  index.Write()->EndSourceRead();
  EXPECT_THAT(ServersOf(index, "c"), IsEmpty());
}

// Random changes against a plain model: every digest lookup must agree.
TEST(MirrorIndexTest, AgreesWithAModelUnderRandomChanges) {
  MirrorIndex index;
  // uuid -> (server, cert seed, key seed).
  std::map<int, std::tuple<std::string, std::string, std::string>> model;
  std::mt19937 random(42);
  auto pick = [&](int n) { return static_cast<int>(random() % n); };
  for (int step = 0; step < 20000; ++step) {
    const int uuid = pick(300);
    if (pick(3) == 0) {
      index.Write()->Remove(TestUuid(uuid));
      model.erase(uuid);
      continue;
    }
    const std::string server = absl::StrCat("mx", pick(20), ".example");
    const std::string cert = absl::StrCat("cert", pick(60));
    const std::string key = absl::StrCat("key", pick(30));
    // The directory holds one pin per (server, certificate): a second entry
    // for the same pair replaces the first one's uuid.
    for (auto it = model.begin(); it != model.end();) {
      const auto& [s, c, k] = it->second;
      if (it->first != uuid && s == server && c == cert) {
        index.Write()->Remove(TestUuid(it->first));
        it = model.erase(it);
      } else {
        ++it;
      }
    }
    index.Write()->PutPin(TestUuid(uuid), server, TestPin(cert, key));
    model[uuid] = {server, cert, key};
  }
  for (int c = 0; c < 60; ++c) {
    const Sha256Digest cert = Digest(absl::StrCat("cert", c));
    std::multiset<std::string> expected;
    for (const auto& [uuid, entry] : model) {
      if (std::get<1>(entry) == absl::StrCat("cert", c)) {
        expected.insert(std::get<0>(entry));
      }
    }
    std::multiset<std::string> got;
    for (const ServerRecord& server :
         index.Read()->FindByDigest(&cert, nullptr)) {
      for (size_t i = 0; i < server.pins.size(); ++i) got.insert(server.name);
    }
    EXPECT_EQ(got, expected) << "cert" << c;
  }
  for (int k = 0; k < 30; ++k) {
    const Sha256Digest key = Digest(absl::StrCat("key", k));
    size_t expected = 0;
    for (const auto& [uuid, entry] : model) {
      if (std::get<2>(entry) == absl::StrCat("key", k)) ++expected;
    }
    size_t got = 0;
    for (const ServerRecord& server :
         index.Read()->FindByDigest(nullptr, &key)) {
      got += server.pins.size();
    }
    EXPECT_EQ(got, expected) << "key" << k;
  }
  EXPECT_EQ(index.Read()->Counts().pins, model.size());
}

}  // namespace
}  // namespace dtrust
