// Entries whose names normalize alike (cn=org-c.example and
// cn=ORG-C.example.): the mirror reads them as one, as LdapDirectory does,
// whatever the order they arrive, change or go in.
#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/mirror/mirror_index.h"
#include "tests/testing/mirror_test_data.h"

namespace dtrust {
namespace {

using ::dtrust::testing::TestPin;
using ::dtrust::testing::TestUuid;

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

PinRecord Pin(absl::string_view cert, absl::string_view publisher = "") {
  PinRecord pin = TestPin(cert);
  pin.publisher = std::string(publisher);
  return pin;
}

constexpr absl::string_view kName = "org-c.example";

// The one server record called kName: its domains and pins' certificates.
struct Seen {
  std::vector<std::string> domains;
  std::vector<Sha256Digest> certs;
};
std::optional<Seen> ServerSeen(const MirrorIndex& index) {
  const std::vector<ServerRecord> found =
      index.Read()->FindServers({.server = std::string(kName)});
  if (found.empty()) return std::nullopt;
  EXPECT_EQ(found.size(), 1u);
  Seen seen{.domains = found[0].domains, .certs = {}};
  for (const PinRecord& pin : found[0].pins) {
    seen.certs.push_back(pin.cert_sha256);
  }
  std::sort(seen.certs.begin(), seen.certs.end());
  return seen;
}

std::vector<Sha256Digest> Certs(const std::vector<absl::string_view>& names) {
  std::vector<Sha256Digest> certs;
  for (absl::string_view name : names) certs.push_back(Sha256Digest::Of(name));
  std::sort(certs.begin(), certs.end());
  return certs;
}

// Entry 1 and entry 2 (uuids 1 and 2, pins 11 and 12 below them) spell the
// same server; `first` says which arrives first, `removed` which goes.
class AlikeServersTest : public ::testing::TestWithParam<std::tuple<int, int>> {
 protected:
  void PutEntry(int n, const std::vector<std::string>& domains) {
    index_.Write()->PutServer(TestUuid(n), kName, domains);
  }
  void Load() {
    const auto [first, removed] = GetParam();
    for (int n : {first, 3 - first}) {
      PutEntry(n, {absl::StrCat("d", n, ".example")});
      index_.Write()->PutPin(TestUuid(10 + n), kName,
                             Pin(absl::StrCat("cert", n)));
    }
  }
  MirrorIndex index_;
};

TEST_P(AlikeServersTest, TheServerHasTheDomainsAndPinsOfBoth) {
  Load();
  const std::optional<Seen> seen = ServerSeen(index_);
  ASSERT_TRUE(seen.has_value());
  EXPECT_THAT(seen->domains, ElementsAre("d1.example", "d2.example"));
  EXPECT_EQ(seen->certs, Certs({"cert1", "cert2"}));
  EXPECT_EQ(index_.Read()->Counts().servers, 1u);
  for (const char* domain : {"d1.example", "d2.example"}) {
    EXPECT_EQ(index_.Read()->FindServers({.domain = domain}).size(), 1u);
  }
  const Sha256Digest cert1 = Sha256Digest::Of("cert1");
  const std::vector<ServerRecord> by_digest =
      index_.Read()->FindByDigest(&cert1, nullptr);
  ASSERT_EQ(by_digest.size(), 1u);
  EXPECT_THAT(by_digest[0].domains, ElementsAre("d1.example", "d2.example"));
}

TEST_P(AlikeServersTest, ModifyingEitherKeepsTheOthersDomains) {
  Load();
  const int changed = std::get<1>(GetParam());
  PutEntry(changed, {"new.example"});
  EXPECT_THAT(
      ServerSeen(index_)->domains,
      ElementsAre(absl::StrCat("d", 3 - changed, ".example"), "new.example"));
  EXPECT_THAT(index_.Read()->FindServers(
                  {.domain = absl::StrCat("d", changed, ".example")}),
              IsEmpty());
}

TEST_P(AlikeServersTest, DeletingEitherLeavesTheOthersContribution) {
  Load();
  const int gone = std::get<1>(GetParam());
  const int kept = 3 - gone;
  // The directory deletes the pin below the entry first, then the entry.
  index_.Write()->Remove(TestUuid(10 + gone));
  index_.Write()->Remove(TestUuid(gone));
  const std::optional<Seen> seen = ServerSeen(index_);
  ASSERT_TRUE(seen.has_value());
  EXPECT_THAT(seen->domains, ElementsAre(absl::StrCat("d", kept, ".example")));
  EXPECT_EQ(seen->certs, Certs({absl::StrCat("cert", kept)}));
  // The one left is an ordinary entry again: changing and deleting it work.
  PutEntry(kept, {"new.example"});
  EXPECT_THAT(ServerSeen(index_)->domains, ElementsAre("new.example"));
  index_.Write()->Remove(TestUuid(10 + kept));
  index_.Write()->Remove(TestUuid(kept));
  EXPECT_FALSE(ServerSeen(index_).has_value());
  EXPECT_EQ(index_.Read()->Counts().servers, 0u);
  EXPECT_EQ(index_.Read()->Counts().pins, 0u);
}

TEST_P(AlikeServersTest, RenamingEitherAwayLeavesTheOthersContribution) {
  Load();
  const int renamed = std::get<1>(GetParam());
  const int kept = 3 - renamed;
  index_.Write()->PutServer(TestUuid(renamed), "org-d.example",
                            {"moved.example"});
  EXPECT_THAT(ServerSeen(index_)->domains,
              ElementsAre(absl::StrCat("d", kept, ".example")));
  const std::vector<ServerRecord> moved =
      index_.Read()->FindServers({.domain = "moved.example"});
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].name, "org-d.example");
  // And back again: merged once more.
  index_.Write()->PutServer(TestUuid(renamed), kName, {"back.example"});
  EXPECT_THAT(ServerSeen(index_)->domains,
              ElementsAre("back.example", absl::StrCat("d", kept, ".example")));
}

TEST_P(AlikeServersTest, AReloadWithdrawsOnlyTheEntryItDidNotSee) {
  Load();
  const int gone = std::get<1>(GetParam());
  const int kept = 3 - gone;
  index_.Write()->BeginReload();
  index_.Write()->MarkPresent(TestUuid(kept));
  index_.Write()->MarkPresent(TestUuid(10 + kept));
  EXPECT_EQ(index_.Write()->EndReload(), 2u);
  const std::optional<Seen> seen = ServerSeen(index_);
  ASSERT_TRUE(seen.has_value());
  EXPECT_THAT(seen->domains, ElementsAre(absl::StrCat("d", kept, ".example")));
  EXPECT_EQ(seen->certs, Certs({absl::StrCat("cert", kept)}));

  index_.Write()->BeginReload();
  EXPECT_EQ(index_.Write()->EndReload(), 2u);
  EXPECT_FALSE(ServerSeen(index_).has_value());
}

INSTANTIATE_TEST_SUITE_P(OrdersAndWhichOne, AlikeServersTest,
                         ::testing::Combine(::testing::Values(1, 2),
                                            ::testing::Values(1, 2)));

TEST(AlikeServersTest, ARenameOntoAnotherEntrysNameBringsItsPins) {
  MirrorIndex index;
  index.Write()->PutServer(TestUuid(1), kName, {"d1.example"});
  index.Write()->PutPin(TestUuid(11), kName, Pin("cert1"));
  index.Write()->PutServer(TestUuid(2), "org-d.example", {"d2.example"});
  index.Write()->PutPin(TestUuid(12), "org-d.example", Pin("cert2"));
  index.Write()->PutPin(TestUuid(13), "org-d.example", Pin("cert1"));
  index.Write()->PutServer(TestUuid(2), kName, {"d2.example"});  // modrdn.
  EXPECT_THAT(ServerSeen(index)->domains,
              ElementsAre("d1.example", "d2.example"));
  EXPECT_EQ(ServerSeen(index)->certs, Certs({"cert1", "cert2"}));
  EXPECT_EQ(index.Read()->Counts().servers, 1u);
  index.Write()->Remove(TestUuid(11));  // cert1 still pinned by entry 13.
  EXPECT_EQ(ServerSeen(index)->certs, Certs({"cert1", "cert2"}));
  index.Write()->Remove(TestUuid(13));
  EXPECT_EQ(ServerSeen(index)->certs, Certs({"cert2"}));
}

// The same certificate pinned below both spellings: one pin, kept until
// both entries are gone; it reads as the entry applied last.
class AlikePinsTest : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(AlikePinsTest, OnePinUntilBothAreGone) {
  const auto [first, gone] = GetParam();
  MirrorIndex index;
  for (int n : {first, 3 - first}) {
    index.Write()->PutPin(TestUuid(10 + n), kName,
                          Pin("shared", absl::StrCat("publisher", n)));
  }
  const Sha256Digest cert = Sha256Digest::Of("shared");
  auto publishers = [&] {
    std::vector<std::string> found;
    for (const ServerRecord& server :
         index.Read()->FindByDigest(&cert, nullptr)) {
      for (const PinRecord& pin : server.pins) found.push_back(pin.publisher);
    }
    return found;
  };
  EXPECT_THAT(publishers(), ElementsAre(absl::StrCat("publisher", 3 - first)));
  EXPECT_EQ(index.Read()->Counts().pins, 1u);
  index.Write()->PutPin(TestUuid(10 + gone), kName, Pin("shared", "changed"));
  EXPECT_THAT(publishers(), ElementsAre("changed"));
  index.Write()->Remove(TestUuid(10 + gone));
  EXPECT_THAT(publishers(), ElementsAre(absl::StrCat("publisher", 3 - gone)));
  index.Write()->Remove(TestUuid(10 + 3 - gone));
  EXPECT_THAT(publishers(), IsEmpty());
  EXPECT_EQ(index.Read()->Counts().pins, 0u);
}

INSTANTIATE_TEST_SUITE_P(OrdersAndWhichOne, AlikePinsTest,
                         ::testing::Combine(::testing::Values(1, 2),
                                            ::testing::Values(1, 2)));

// Two spellings of a domain: the stricter mode in each direction.
class AlikeDomainsTest : public ::testing::TestWithParam<std::tuple<int, int>> {
 protected:
  void Put(int n, SecureMode send, SecureMode receive) {
    index_.Write()->PutDomainPolicy(
        TestUuid(n),
        {.domain = std::string(kName), .send = send, .receive = receive});
  }
  void Load() {
    const int first = std::get<0>(GetParam());
    for (int n : {first, 3 - first}) {
      // Entry 1: send enforce; entry 2: receive testing.
      Put(n, n == 1 ? SecureMode::kEnforce : SecureMode::kOff,
          n == 2 ? SecureMode::kTesting : SecureMode::kOff);
    }
  }
  std::optional<std::pair<SecureMode, SecureMode>> Modes() const {
    const std::optional<DomainPolicy> policy =
        index_.Read()->GetDomainPolicy(kName);
    if (!policy) return std::nullopt;
    const std::vector<DomainPolicy> listed =
        index_.Read()->ListDomainPolicies();
    EXPECT_EQ(std::count_if(listed.begin(), listed.end(),
                            [](const DomainPolicy& listed_policy) {
                              return listed_policy.domain == kName;
                            }),
              1);
    return std::make_pair(policy->send, policy->receive);
  }
  MirrorIndex index_;
};

TEST_P(AlikeDomainsTest, TheStricterModeInEachDirection) {
  Load();
  EXPECT_THAT(Modes(), Optional(std::make_pair(SecureMode::kEnforce,
                                               SecureMode::kTesting)));
  EXPECT_EQ(index_.Read()->Counts().domain_policies, 1u);
}

TEST_P(AlikeDomainsTest, ModifyingEitherMergesAgain) {
  Load();
  const int changed = std::get<1>(GetParam());
  Put(changed, SecureMode::kTesting, SecureMode::kEnforce);
  // Entry 1 was send enforce, entry 2 receive testing.
  EXPECT_THAT(Modes(),
              Optional(std::make_pair(
                  changed == 1 ? SecureMode::kTesting : SecureMode::kEnforce,
                  SecureMode::kEnforce)));
  Put(changed, SecureMode::kOff, SecureMode::kOff);
  EXPECT_THAT(
      Modes(),
      Optional(changed == 1
                   ? std::make_pair(SecureMode::kOff, SecureMode::kTesting)
                   : std::make_pair(SecureMode::kEnforce, SecureMode::kOff)));
}

TEST_P(AlikeDomainsTest, DeletingOrRenamingEitherLeavesTheOthersModes) {
  for (bool rename : {false, true}) {
    SCOPED_TRACE(rename ? "renamed" : "deleted");
    index_.Write()->RemoveDomainPolicyByName(kName);
    index_.Write()->RemoveDomainPolicyByName("org-d.example");
    Load();
    const int gone = std::get<1>(GetParam());
    if (rename) {
      index_.Write()->PutDomainPolicy(
          TestUuid(gone),
          {.domain = "org-d.example", .send = SecureMode::kTesting});
      EXPECT_TRUE(index_.Read()->GetDomainPolicy("org-d.example").has_value());
    } else {
      index_.Write()->Remove(TestUuid(gone));
    }
    EXPECT_THAT(
        Modes(),
        Optional(gone == 1
                     ? std::make_pair(SecureMode::kOff, SecureMode::kTesting)
                     : std::make_pair(SecureMode::kEnforce, SecureMode::kOff)));
    index_.Write()->Remove(TestUuid(3 - gone));
    EXPECT_FALSE(Modes().has_value());
  }
}

TEST_P(AlikeDomainsTest, RemovingByNameRemovesEverySpelling) {
  Load();
  index_.Write()->RemoveDomainPolicyByName(kName);
  EXPECT_FALSE(Modes().has_value());
  // The deletions' notifications find nothing left to do.
  index_.Write()->Remove(TestUuid(1));
  index_.Write()->Remove(TestUuid(2));
  EXPECT_FALSE(Modes().has_value());
}

INSTANTIATE_TEST_SUITE_P(OrdersAndWhichOne, AlikeDomainsTest,
                         ::testing::Combine(::testing::Values(1, 2),
                                            ::testing::Values(1, 2)));

// An entry of the random test below.
struct ModelEntry {
  bool server = true;
  std::string name;
  std::string domain;  // A server's one domain.
  SecureMode send = SecureMode::kOff;
  SecureMode receive = SecureMode::kOff;
};

// Whether `index` reads `name` as `model` (entries by uuid) merges it.
::testing::AssertionResult ReadsAsTheModelMerges(
    const MirrorIndex& index, const std::map<int, ModelEntry>& model,
    const std::string& name) {
  std::set<std::string> domains;
  bool server = false;
  DomainPolicy policy{.domain = name};
  for (const auto& [id, entry] : model) {
    if (entry.name != name) continue;
    if (entry.server) {
      server = true;
      domains.insert(entry.domain);
    } else {
      policy.send = Stricter(policy.send, entry.send);
      policy.receive = Stricter(policy.receive, entry.receive);
    }
  }
  const std::vector<ServerRecord> found =
      index.Read()->FindServers({.server = name});
  if (found.size() != (server ? 1u : 0u) ||
      (server && std::set<std::string>(found[0].domains.begin(),
                                       found[0].domains.end()) != domains)) {
    return ::testing::AssertionFailure() << "server " << name;
  }
  const std::optional<DomainPolicy> got = index.Read()->GetDomainPolicy(name);
  const bool listed =
      policy.send != SecureMode::kOff || policy.receive != SecureMode::kOff;
  if (got.has_value() != listed ||
      (listed &&
       (got->send != policy.send || got->receive != policy.receive))) {
    return ::testing::AssertionFailure() << "domain policy " << name;
  }
  return ::testing::AssertionSuccess();
}

// Random puts, renames, removals and reloads of server and domain entries
// over three names, against a model that merges by name.
TEST(AlikeNamesTest, AgreesWithAMergingModelUnderRandomChanges) {
  MirrorIndex index;
  std::map<int, ModelEntry> model;  // By uuid.
  std::mt19937 random(12);
  auto pick = [&](int n) { return static_cast<int>(random() % n); };
  const SecureMode modes[] = {SecureMode::kOff, SecureMode::kTesting,
                              SecureMode::kEnforce};
  for (int step = 0; step < 20000; ++step) {
    const int uuid = 1 + pick(12);
    const int action = pick(10);
    if (action == 0) {  // A reload that sees some of the entries.
      index.Write()->BeginReload();
      for (auto it = model.begin(); it != model.end();) {
        if (pick(4) == 0) {
          it = model.erase(it);
        } else {
          index.Write()->MarkPresent(TestUuid(it->first));
          ++it;
        }
      }
      index.Write()->EndReload();
    } else if (action < 4) {
      index.Write()->Remove(TestUuid(uuid));
      model.erase(uuid);
    } else {
      // A uuid keeps its kind: servers and domains are different entries.
      ModelEntry entry{.server = uuid % 2 == 0,
                       .name = absl::StrCat("n", pick(3), ".example"),
                       .domain = absl::StrCat("d", pick(4), ".example"),
                       .send = modes[pick(3)],
                       .receive = modes[pick(3)]};
      if (entry.server) {
        index.Write()->PutServer(TestUuid(uuid), entry.name, {entry.domain});
      } else {
        index.Write()->PutDomainPolicy(TestUuid(uuid),
                                       {.domain = entry.name,
                                        .send = entry.send,
                                        .receive = entry.receive});
      }
      model[uuid] = entry;
    }
    for (int n = 0; n < 3; ++n) {
      ASSERT_TRUE(
          ReadsAsTheModelMerges(index, model, absl::StrCat("n", n, ".example")))
          << "step " << step;
    }
  }
}

}  // namespace
}  // namespace dtrust
