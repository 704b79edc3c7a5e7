// WatchVerifier over a fake Watch stream and a fake clock: snapshots, changes,
// resuming, freshness and the staleness bound, and verdicts identical to
// those of core's TrustService over the same data.
#include "client/lib/watch_verifier.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/lib/fake_watch_source.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_directory.h"

namespace dtrust::lib {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

void SetTime(absl::Time time, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(time));
}

void SetDuration(absl::Duration duration, google::protobuf::Duration* out) {
  out->set_seconds(absl::ToInt64Seconds(duration));
}

PinRecord Pin(absl::string_view name, absl::Duration from, absl::Duration to,
              PinKind kind = PinKind::kCertificate) {
  return {.cert_sha256 = Sha256Digest::Of(absl::StrCat("cert ", name)),
          .spki_sha256 = Sha256Digest::Of(absl::StrCat("key ", name)),
          .kind = kind,
          .not_before = kNow + from,
          .not_after = kNow + to,
          .subject = "",
          .der = "",
          .window = {},
          .provenance = PinProvenance::kAsserted,
          .publisher = "test"};
}

struct Server {
  std::string name;
  std::vector<std::string> domains;
  std::vector<PinRecord> pins;
};

v1::ServerEntry Entry(const Server& server) {
  v1::ServerEntry entry;
  entry.set_name(server.name);
  for (const std::string& domain : server.domains) entry.add_domains(domain);
  for (const PinRecord& pin : server.pins) {
    v1::Pin* out = entry.add_pins();
    out->set_sha256(std::string(pin.cert_sha256.bytes()));
    out->set_spki_sha256(std::string(pin.spki_sha256.bytes()));
    out->set_kind(pin.kind == PinKind::kPublicKey ? v1::PIN_KIND_PUBLIC_KEY
                                                  : v1::PIN_KIND_CERTIFICATE);
    SetTime(pin.not_before, out->mutable_not_before());
    SetTime(pin.not_after, out->mutable_not_after());
    if (pin.window.not_before) {
      SetTime(*pin.window.not_before, out->mutable_pin_not_before());
    }
    if (pin.window.not_after) {
      SetTime(*pin.window.not_after, out->mutable_pin_not_after());
    }
    out->set_publisher(pin.publisher);
  }
  return entry;
}

v1::WatchEvent Chunk(uint64_t epoch, uint64_t version, uint32_t index,
                     bool last, const std::vector<Server>& servers) {
  v1::WatchEvent event;
  v1::WatchSnapshotChunk* chunk = event.mutable_snapshot();
  chunk->set_epoch(epoch);
  chunk->set_version(version);
  chunk->set_index(index);
  chunk->set_last(last);
  for (const Server& server : servers) *chunk->add_servers() = Entry(server);
  return event;
}

v1::WatchEvent Upsert(uint64_t epoch, uint64_t version, const Server& server) {
  v1::WatchEvent event;
  event.mutable_change()->set_epoch(epoch);
  event.mutable_change()->set_version(version);
  *event.mutable_change()->mutable_server() = Entry(server);
  return event;
}

v1::WatchEvent Removed(uint64_t epoch, uint64_t version,
                       const std::string& name) {
  v1::WatchEvent event;
  event.mutable_change()->set_epoch(epoch);
  event.mutable_change()->set_version(version);
  event.mutable_change()->set_server_removed(name);
  return event;
}

v1::WatchEvent Freshness(bool serving, absl::Duration age,
                         absl::Duration max_staleness,
                         std::string reason = "") {
  v1::WatchEvent event;
  event.mutable_freshness()->set_serving(serving);
  SetDuration(age, event.mutable_freshness()->mutable_snapshot_age());
  SetDuration(max_staleness,
              event.mutable_freshness()->mutable_max_staleness());
  event.mutable_freshness()->set_reason(std::move(reason));
  return event;
}

const Server kMx1{.name = "mx1.example.org",
                  .domains = {"example.org"},
                  .pins = {Pin("a", -absl::Hours(24), absl::Hours(24))}};

VerifyQuery Query(const PinRecord& pin, std::string server,
                  std::string domain = "") {
  return {.sha256 = pin.cert_sha256,
          .spki_sha256 = pin.spki_sha256,
          .expected_server = std::move(server),
          .expected_domain = std::move(domain)};
}

class WatchVerifierTest : public ::testing::Test {
 protected:
  void Start() {
    verifier_ = std::make_unique<WatchVerifier>(
        std::make_unique<testing::FakeWatchSource>(&feed_), &clock_,
        WatchVerifierOptions{.connect_timeout = absl::Seconds(30),
                             .read_timeout = absl::Seconds(30),
                             .min_backoff = absl::Milliseconds(1),
                             .max_backoff = absl::Milliseconds(4)});
  }
  // Pushes `events` and waits until the copy applied them.
  void Feed(const std::vector<absl::StatusOr<v1::WatchEvent>>& events) {
    for (const auto& event : events) feed_.Push(event);
    ASSERT_TRUE(feed_.WaitIdle());
  }
  // A copy at epoch 1, version 5, holding `servers`, live with a 60 s bound.
  void StartWith(const std::vector<Server>& servers) {
    Start();
    Feed({Chunk(1, 5, 0, true, servers),
          Freshness(true, absl::ZeroDuration(), absl::Seconds(60))});
  }
  dtrust_verdict VerdictOf(const VerifyQuery& query) {
    absl::StatusOr<VerifyAnswer> answer = verifier_->Verify(query);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.ok() ? answer->verdict : DTRUST_VERDICT_NONE;
  }

  testing::FakeClock clock_{kNow};
  testing::FakeWatchFeed feed_;
  std::unique_ptr<WatchVerifier> verifier_;
};

TEST_F(WatchVerifierTest, UnavailableBeforeTheFirstSnapshot) {
  Start();
  Feed({Freshness(true, absl::ZeroDuration(), absl::Seconds(60))});
  absl::StatusOr<VerifyAnswer> answer =
      verifier_->Verify(Query(kMx1.pins[0], kMx1.name));
  EXPECT_TRUE(absl::IsUnavailable(answer.status()));
  EXPECT_THAT(answer.status().message(), HasSubstr("no complete snapshot"));
  EXPECT_TRUE(
      absl::IsDeadlineExceeded(verifier_->WaitReady(absl::Milliseconds(10))));
}

TEST_F(WatchVerifierTest, SnapshotAnswersOnlyOnceItsLastChunkArrived) {
  const Server mx2{.name = "mx2.example.org",
                   .domains = {"example.org"},
                   .pins = {Pin("b", -absl::Hours(1), absl::Hours(1))}};
  Start();
  Feed({Chunk(1, 5, 0, false, {kMx1}),
        Freshness(true, absl::ZeroDuration(), absl::Seconds(60))});
  EXPECT_TRUE(absl::IsUnavailable(
      verifier_->Verify(Query(kMx1.pins[0], kMx1.name)).status()));
  Feed({Chunk(1, 5, 1, true, {mx2})});
  EXPECT_TRUE(verifier_->WaitReady(absl::Seconds(1)).ok());
  EXPECT_EQ(VerdictOf(Query(kMx1.pins[0], kMx1.name)), DTRUST_VERDICT_TRUSTED);
  EXPECT_EQ(VerdictOf(Query(mx2.pins[0], mx2.name)), DTRUST_VERDICT_TRUSTED);
  EXPECT_EQ(verifier_->position().epoch, 1u);
  EXPECT_EQ(verifier_->position().version, 5u);
}

TEST_F(WatchVerifierTest, AChunkOutOfOrderKeepsThePreviousCopyAndResumes) {
  StartWith({kMx1});
  Feed({Chunk(2, 9, 0, false, {}), Chunk(2, 9, 2, true, {})});
  EXPECT_EQ(VerdictOf(Query(kMx1.pins[0], kMx1.name)), DTRUST_VERDICT_TRUSTED);
  ASSERT_EQ(feed_.opened().size(), 2u);
  EXPECT_EQ(feed_.opened()[1].resume_epoch(), 1u);
  EXPECT_EQ(feed_.opened()[1].resume_version(), 5u);
}

TEST_F(WatchVerifierTest, ChangesPublishAndRevoke) {
  StartWith({kMx1});
  Server changed = kMx1;
  changed.pins = {Pin("c", -absl::Hours(1), absl::Hours(1))};
  Feed({Upsert(1, 6, changed)});
  EXPECT_EQ(VerdictOf(Query(changed.pins[0], kMx1.name)),
            DTRUST_VERDICT_TRUSTED);
  EXPECT_EQ(VerdictOf(Query(kMx1.pins[0], kMx1.name)),
            DTRUST_VERDICT_NOT_PUBLISHED);  // The entry was replaced whole.
  Feed({Removed(1, 7, kMx1.name)});
  EXPECT_EQ(VerdictOf(Query(changed.pins[0], kMx1.name)),
            DTRUST_VERDICT_NOT_PUBLISHED);
  EXPECT_EQ(verifier_->position().version, 7u);
  EXPECT_EQ(feed_.opened().size(), 1u);  // No reconnection.
}

TEST_F(WatchVerifierTest, AGapResumesFromTheLastVersionApplied) {
  StartWith({kMx1});
  Feed({Removed(1, 7, kMx1.name)});
  EXPECT_EQ(VerdictOf(Query(kMx1.pins[0], kMx1.name)), DTRUST_VERDICT_TRUSTED);
  ASSERT_EQ(feed_.opened().size(), 2u);
  EXPECT_EQ(feed_.opened()[0].resume_epoch(), 0u);
  EXPECT_EQ(feed_.opened()[1].resume_epoch(), 1u);
  EXPECT_EQ(feed_.opened()[1].resume_version(), 5u);
  Feed({Removed(1, 6, kMx1.name)});  // The resumed stream.
  EXPECT_EQ(VerdictOf(Query(kMx1.pins[0], kMx1.name)),
            DTRUST_VERDICT_NOT_PUBLISHED);
}

TEST_F(WatchVerifierTest, AnotherEpochResumesAndTakesTheNewSnapshot) {
  StartWith({kMx1});
  const Server mx2{.name = "mx2.example.org",
                   .domains = {"example.net"},
                   .pins = {Pin("b", -absl::Hours(1), absl::Hours(1))}};
  Feed({Upsert(2, 1, mx2)});
  EXPECT_EQ(feed_.opened().size(), 2u);
  EXPECT_EQ(VerdictOf(Query(mx2.pins[0], mx2.name)),
            DTRUST_VERDICT_NOT_PUBLISHED);
  Feed({Chunk(2, 1, 0, true, {mx2})});
  EXPECT_EQ(VerdictOf(Query(mx2.pins[0], mx2.name)), DTRUST_VERDICT_TRUSTED);
  EXPECT_EQ(VerdictOf(Query(kMx1.pins[0], kMx1.name)),
            DTRUST_VERDICT_NOT_PUBLISHED);
  EXPECT_EQ(verifier_->position().epoch, 2u);
}

TEST_F(WatchVerifierTest, NotServingFailsClosedWithDtrustdsReason) {
  StartWith({kMx1});
  Feed({Freshness(false, absl::Seconds(5), absl::Seconds(60),
                  "directory unreachable")});
  absl::StatusOr<VerifyAnswer> answer =
      verifier_->Verify(Query(kMx1.pins[0], kMx1.name));
  EXPECT_TRUE(absl::IsUnavailable(answer.status()));
  EXPECT_THAT(answer.status().message(),
              HasSubstr("not serving: directory unreachable"));
  Feed({Freshness(true, absl::ZeroDuration(), absl::Seconds(60))});
  EXPECT_EQ(VerdictOf(Query(kMx1.pins[0], kMx1.name)), DTRUST_VERDICT_TRUSTED);
}

TEST_F(WatchVerifierTest, WithoutDtrustdAnswersUntilTheBoundThenFailsClosed) {
  StartWith({kMx1});
  Feed({Freshness(true, absl::Seconds(20), absl::Seconds(60)),
        absl::UnavailableError("dtrustd went away")});
  clock_.Set(kNow + absl::Seconds(40));  // 20 s + 40 s: at the bound.
  EXPECT_EQ(VerdictOf(Query(kMx1.pins[0], kMx1.name)), DTRUST_VERDICT_TRUSTED);
  clock_.Set(kNow + absl::Seconds(41));
  absl::StatusOr<VerifyAnswer> answer =
      verifier_->Verify(Query(kMx1.pins[0], kMx1.name));
  EXPECT_TRUE(absl::IsUnavailable(answer.status()));
  EXPECT_THAT(answer.status().message(), HasSubstr("over dtrustd's bound"));
  EXPECT_THAT(answer.status().message(), HasSubstr("dtrustd went away"));
  // Back: the resumed stream's freshness makes it answer again.
  Feed({Freshness(true, absl::ZeroDuration(), absl::Seconds(60))});
  EXPECT_EQ(VerdictOf(Query(kMx1.pins[0], kMx1.name)), DTRUST_VERDICT_TRUSTED);
  EXPECT_EQ(feed_.opened().back().resume_version(), 5u);
}

// Every verdict as core's TrustService gives it over the same data.
TEST_F(WatchVerifierTest, VerdictsAndReasonsAreThoseOfCore) {
  PinRecord key_pin =
      Pin("key", -absl::Hours(24), absl::Hours(24), PinKind::kPublicKey);
  PinRecord future_window = Pin("w1", -absl::Hours(24), absl::Hours(24));
  future_window.window.not_before = kNow + absl::Hours(1);
  PinRecord past_window = Pin("w2", -absl::Hours(24), absl::Hours(24));
  past_window.window.not_after = kNow - absl::Hours(1);
  const std::vector<Server> servers{
      kMx1,
      {.name = "mx2.example.net",
       .domains = {"example.net"},
       .pins = {key_pin, future_window, past_window,
                Pin("old", -absl::Hours(48), -absl::Hours(1)),
                Pin("new", absl::Hours(1), absl::Hours(48))}}};
  testing::FakeDirectory reference_directory;
  for (const Server& server : servers) {
    ASSERT_TRUE(
        reference_directory.CreateServer(server.name, server.domains).ok());
    for (const PinRecord& pin : server.pins) {
      ASSERT_TRUE(reference_directory.AddPin(server.name, pin).ok());
    }
  }
  TrustService reference(&reference_directory, &clock_);
  StartWith(servers);

  PinRecord other_cert_same_key = key_pin;
  other_cert_same_key.cert_sha256 = Sha256Digest::Of("another certificate");
  const PinRecord& mx2_pin = servers[1].pins[3];
  const std::vector<VerifyQuery> queries{
      Query(kMx1.pins[0], kMx1.name),          // TRUSTED
      Query(kMx1.pins[0], "", "example.org"),  // TRUSTED by domain
      Query(Pin("none", absl::ZeroDuration(), absl::Hours(1)), kMx1.name),
      Query(kMx1.pins[0], "mx2.example.net"),         // WRONG_SERVER
      Query(kMx1.pins[0], kMx1.name, "example.net"),  // WRONG_DOMAIN
      Query(mx2_pin, "mx2.example.net"),              // EXPIRED
      Query(servers[1].pins[4], "mx2.example.net"),   // NOT_YET_VALID
      Query(future_window, "mx2.example.net"),        // PIN_NOT_YET_ACTIVE
      Query(past_window, "mx2.example.net"),          // PIN_EXPIRED
      Query(other_cert_same_key, "mx2.example.net"),  // key pin
      Query(kMx1.pins[0], "MX1.Example.Org."),        // normalized
  };
  std::vector<dtrust_verdict> verdicts;
  for (const VerifyQuery& query : queries) {
    absl::StatusOr<VerifyResult> expected =
        reference.Verify({.cert_sha256 = query.sha256,
                          .spki_sha256 = query.spki_sha256,
                          .expected_server = query.expected_server,
                          .expected_domain = query.expected_domain});
    ASSERT_TRUE(expected.ok()) << expected.status();
    absl::StatusOr<VerifyAnswer> answer = verifier_->Verify(query);
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->verdict, static_cast<int>(expected->verdict) + 1);
    EXPECT_EQ(answer->reason, expected->reason);
    verdicts.push_back(answer->verdict);
  }
  EXPECT_THAT(verdicts,
              ::testing::ElementsAre(
                  DTRUST_VERDICT_TRUSTED, DTRUST_VERDICT_TRUSTED,
                  DTRUST_VERDICT_NOT_PUBLISHED, DTRUST_VERDICT_WRONG_SERVER,
                  DTRUST_VERDICT_WRONG_DOMAIN, DTRUST_VERDICT_EXPIRED,
                  DTRUST_VERDICT_NOT_YET_VALID,
                  DTRUST_VERDICT_PIN_NOT_YET_ACTIVE, DTRUST_VERDICT_PIN_EXPIRED,
                  DTRUST_VERDICT_TRUSTED, DTRUST_VERDICT_TRUSTED));
}

TEST_F(WatchVerifierTest, ABadExpectationIsUnavailableAsOverTheRpc) {
  StartWith({kMx1});
  absl::StatusOr<VerifyAnswer> answer =
      verifier_->Verify(Query(kMx1.pins[0], "not a host name!"));
  EXPECT_TRUE(absl::IsUnavailable(answer.status()));
}

TEST_F(WatchVerifierTest, AnOversizedSnapshotIsRefused) {
  verifier_ = std::make_unique<WatchVerifier>(
      std::make_unique<testing::FakeWatchSource>(&feed_), &clock_,
      WatchVerifierOptions{.min_backoff = absl::Milliseconds(1),
                           .max_backoff = absl::Milliseconds(4),
                           .max_entries = 1});
  Feed({Chunk(1, 5, 0, true, {kMx1}),
        Freshness(true, absl::ZeroDuration(), absl::Seconds(60))});
  EXPECT_TRUE(absl::IsUnavailable(
      verifier_->Verify(Query(kMx1.pins[0], kMx1.name)).status()));
  EXPECT_GE(feed_.opened().size(), 2u);
}

// The bound holds for changes too: one that would pass it ends the stream
// (the copy keeps its data and reconnects); a removal always fits.
TEST_F(WatchVerifierTest, AChangePastTheEntryBoundIsRefused) {
  verifier_ = std::make_unique<WatchVerifier>(
      std::make_unique<testing::FakeWatchSource>(&feed_), &clock_,
      WatchVerifierOptions{.min_backoff = absl::Milliseconds(1),
                           .max_backoff = absl::Milliseconds(4),
                           .max_entries = 3});
  const Server mx2{.name = "mx2.example.org",
                   .domains = {"example.org"},
                   .pins = {Pin("b", -absl::Hours(24), absl::Hours(24))}};
  Feed({Chunk(1, 5, 0, true, {kMx1}),
        Freshness(true, absl::ZeroDuration(), absl::Seconds(60)),
        Upsert(1, 6, mx2)});
  EXPECT_GE(feed_.opened().size(), 2u);
  EXPECT_EQ(verifier_->position().version, 5u);
  EXPECT_EQ(verifier_->Verify(Query(mx2.pins[0], mx2.name))->verdict,
            DTRUST_VERDICT_NOT_PUBLISHED);
  EXPECT_EQ(verifier_->Verify(Query(kMx1.pins[0], kMx1.name))->verdict,
            DTRUST_VERDICT_TRUSTED);
  Feed({Removed(1, 6, kMx1.name)});
  EXPECT_EQ(verifier_->position().version, 6u);
}

// A name no DNS name can be (over 253 bytes) is a protocol error: the
// snapshot is refused, nothing of it is stored.
TEST_F(WatchVerifierTest, AnOverlongNameIsRefused) {
  Start();
  const Server huge{.name = std::string(300, 'a') + ".example.org",
                    .domains = {"example.org"},
                    .pins = {Pin("c", -absl::Hours(24), absl::Hours(24))}};
  Feed({Chunk(1, 5, 0, true, {huge}),
        Freshness(true, absl::ZeroDuration(), absl::Seconds(60))});
  EXPECT_GE(feed_.opened().size(), 2u);
  EXPECT_TRUE(absl::IsUnavailable(
      verifier_->Verify(Query(huge.pins[0], huge.name)).status()));
}

}  // namespace
}  // namespace dtrust::lib
