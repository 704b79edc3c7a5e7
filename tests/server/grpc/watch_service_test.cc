// WatchService over a fake stream and a real (in-memory) Mirror.
#include "server/grpc/watch_service.h"

#include <deque>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/mirror_test_data.h"

namespace dtrust {
namespace {

using ::dtrust::testing::TestPin;

using ::dtrust::testing::FakeClock;
using ::testing::HasSubstr;

constexpr absl::Duration kPatience = absl::Seconds(10);

// Records what is written; can stop taking messages (Write blocks until
// cancelled), as a client that does not read.
class FakeStream final : public WatchStream {
 public:
  bool Write(const v1::WatchEvent& event) override {
    absl::MutexLock lock(&mu_);
    if (!reading_) mu_.Await(absl::Condition(&cancelled_));
    if (cancelled_) return false;
    events_.push_back(event);
    return true;
  }
  bool IsCancelled() const override {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }
  void TryCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  void StopReading() {
    absl::MutexLock lock(&mu_);
    reading_ = false;
  }
  // The next event written, or nullopt after kPatience.
  std::optional<v1::WatchEvent> Next() {
    absl::MutexLock lock(&mu_);
    const auto has_event = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !events_.empty();
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&has_event), kPatience)) {
      return std::nullopt;
    }
    v1::WatchEvent event = std::move(events_.front());
    events_.pop_front();
    return event;
  }
  // The next event that is not freshness.
  std::optional<v1::WatchEvent> NextData() {
    std::optional<v1::WatchEvent> event;
    do {
      event = Next();
    } while (event && event->has_freshness());
    return event;
  }

 private:
  mutable absl::Mutex mu_;
  bool reading_ ABSL_GUARDED_BY(mu_) = true;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<v1::WatchEvent> events_ ABSL_GUARDED_BY(mu_);
};

// Serve() on its own thread.
class Watch {
 public:
  Watch(WatchService* service, const v1::WatchRequest& request)
      : thread_([this, service, request] {
          status_ = service->Serve(request, &stream_);
        }) {}
  ~Watch() {
    stream_.TryCancel();
    thread_.join();
  }
  FakeStream& stream() { return stream_; }
  absl::Status Join() {
    thread_.join();
    thread_ = std::thread([] {});
    return status_;
  }

 private:
  FakeStream stream_;
  absl::Status status_;
  std::thread thread_;
};

class WatchServiceTest : public ::testing::Test {
 protected:
  WatchServiceTest() {
    mirror_.index().Write()->AddServerDomains("mx1.a.example", {"a.example"});
    mirror_.index().Write()->PutPinByName("mx1.a.example", TestPin("cert1"));
    mirror_.index().Write()->PutDomainPolicyByName(
        DomainPolicy{"a.example", SecureMode::kEnforce, SecureMode::kOff});
    mirror_.MarkCurrent(clock_.Now(), /*live=*/true);
  }

  v1::WatchRequest At(ChangePosition position) {
    v1::WatchRequest request;
    request.set_resume_epoch(position.epoch);
    request.set_resume_version(position.version);
    return request;
  }

  FakeClock clock_;
  Mirror mirror_{MirrorOptions{}, &clock_};
  WatchOptions options_{.cancel_check = absl::Milliseconds(50)};
};

TEST_F(WatchServiceTest, SnapshotThenFreshnessThenChanges) {
  WatchService service(&mirror_, options_);
  Watch watch(&service, v1::WatchRequest{});
  std::optional<v1::WatchEvent> event = watch.stream().Next();
  ASSERT_TRUE(event && event->has_snapshot());
  const v1::WatchSnapshotChunk chunk = event->snapshot();  // `event` is reused.
  EXPECT_EQ(chunk.epoch(), mirror_.changes().Current().epoch);
  EXPECT_EQ(chunk.version(), mirror_.changes().Current().version);
  EXPECT_EQ(chunk.index(), 0u);
  EXPECT_TRUE(chunk.last());
  ASSERT_EQ(chunk.servers_size(), 1);
  EXPECT_EQ(chunk.servers(0).name(), "mx1.a.example");
  ASSERT_EQ(chunk.servers(0).pins_size(), 1);
  EXPECT_TRUE(chunk.servers(0).pins(0).certificate_der().empty());
  ASSERT_EQ(chunk.domain_policies_size(), 1);
  EXPECT_EQ(chunk.domain_policies(0).domain(), "a.example");

  event = watch.stream().Next();
  ASSERT_TRUE(event && event->has_freshness());
  EXPECT_TRUE(event->freshness().serving());

  mirror_.index().Write()->PutPinByName("mx1.a.example", TestPin("cert2"));
  mirror_.index().Write()->RemoveServerByName("mx1.a.example");
  mirror_.index().Write()->RemoveDomainPolicyByName("a.example");
  // Consecutive versions, each with the value when sent (the server may be
  // gone already), up to the policy's removal.
  std::vector<v1::WatchChange> changes;
  do {
    event = watch.stream().NextData();
    ASSERT_TRUE(event && event->has_change());
    EXPECT_EQ(event->change().version(), chunk.version() + changes.size() + 1);
    changes.push_back(event->change());
  } while (!changes.back().has_domain_policy_removed());
  EXPECT_EQ(changes.back().domain_policy_removed(), "a.example");
  ASSERT_GE(changes.size(), 3u);
  EXPECT_EQ(changes[changes.size() - 2].server_removed(), "mx1.a.example");
}

TEST_F(WatchServiceTest, ResumeGetsOnlyLaterChangesAForeignEpochASnapshot) {
  WatchService service(&mirror_, options_);
  const ChangePosition at = mirror_.changes().Current();
  mirror_.index().Write()->PutDomainPolicyByName(
      DomainPolicy{"b.example", SecureMode::kOff, SecureMode::kEnforce});
  {
    Watch watch(&service, At(at));
    std::optional<v1::WatchEvent> event = watch.stream().Next();
    ASSERT_TRUE(event && event->has_change());
    EXPECT_EQ(event->change().version(), at.version + 1);
    EXPECT_EQ(event->change().domain_policy().domain(), "b.example");
    event = watch.stream().Next();
    ASSERT_TRUE(event && event->has_freshness());
  }
  Watch foreign(&service, At({at.epoch + 1, at.version}));
  std::optional<v1::WatchEvent> event = foreign.stream().Next();
  ASSERT_TRUE(event && event->has_snapshot());
  EXPECT_EQ(event->snapshot().epoch(), at.epoch);
  EXPECT_EQ(event->snapshot().version(), at.version + 1);
}

TEST_F(WatchServiceTest, ANewEpochSendsANewSnapshot) {
  WatchService service(&mirror_, options_);
  Watch watch(&service, v1::WatchRequest{});
  ASSERT_TRUE(watch.stream().NextData()->has_snapshot());
  mirror_.StartEpoch();
  std::optional<v1::WatchEvent> event = watch.stream().NextData();
  ASSERT_TRUE(event && event->has_snapshot());
  EXPECT_EQ(event->snapshot().epoch(), mirror_.changes().Current().epoch);
}

TEST_F(WatchServiceTest, SnapshotChunksStayWithinTheMessageBound) {
  for (int i = 0; i < 200; ++i) {
    mirror_.index().Write()->PutPinByName(absl::StrCat("mx", i, ".b.example"),
                                          TestPin(absl::StrCat("cert", i)));
  }
  options_.max_message_bytes = 4096;
  WatchService service(&mirror_, options_);
  Watch watch(&service, v1::WatchRequest{});
  int servers = 0;
  for (uint32_t index = 0;; ++index) {
    std::optional<v1::WatchEvent> event = watch.stream().Next();
    ASSERT_TRUE(event && event->has_snapshot());
    EXPECT_LE(event->ByteSizeLong(), options_.max_message_bytes);
    EXPECT_EQ(event->snapshot().index(), index);
    servers += event->snapshot().servers_size();
    if (event->snapshot().last()) break;
  }
  EXPECT_EQ(servers, 201);
}

TEST_F(WatchServiceTest, OneWatcherTooManyIsRefusedNamingTheFlag) {
  options_.max_watchers = 1;
  WatchService service(&mirror_, options_);
  Watch first(&service, v1::WatchRequest{});
  ASSERT_TRUE(first.stream().Next().has_value());
  FakeStream second;
  const absl::Status refused = service.Serve(v1::WatchRequest{}, &second);
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("--watch-max-watchers"));
}

TEST_F(WatchServiceTest, AClientThatStopsReadingIsDropped) {
  options_.send_deadline = absl::Milliseconds(200);
  WatchService service(&mirror_, options_);
  Watch watch(&service, v1::WatchRequest{});
  ASSERT_TRUE(watch.stream().NextData().has_value());
  watch.stream().StopReading();
  const absl::Time start = absl::Now();
  mirror_.index().Write()->RemoveServerByName("mx1.a.example");
  const absl::Status dropped = watch.Join();
  EXPECT_TRUE(absl::IsDeadlineExceeded(dropped)) << dropped;
  EXPECT_THAT(dropped.message(), HasSubstr("--watch-send-deadline"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_F(WatchServiceTest, ShutdownEndsStreamsAndRefusesNewOnes) {
  WatchService service(&mirror_, options_);
  Watch watch(&service, v1::WatchRequest{});
  ASSERT_TRUE(watch.stream().Next().has_value());
  const absl::Time start = absl::Now();
  service.Shutdown();
  const absl::Status ended = watch.Join();
  EXPECT_TRUE(absl::IsUnavailable(ended)) << ended;
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  FakeStream late;
  EXPECT_TRUE(absl::IsUnavailable(service.Serve(v1::WatchRequest{}, &late)));
}

TEST_F(WatchServiceTest, FreshnessFollowsTheMirror) {
  WatchService service(&mirror_, options_);
  Watch watch(&service, v1::WatchRequest{});
  ASSERT_TRUE(watch.stream().Next()->has_snapshot());
  ASSERT_TRUE(watch.stream().Next()->freshness().serving());
  clock_.Set(clock_.Now() + absl::Minutes(6));  // Past --max-staleness.
  mirror_.MarkDisconnected("slapd went away");
  std::optional<v1::WatchEvent> event;
  do {
    event = watch.stream().Next();
    ASSERT_TRUE(event && event->has_freshness());
  } while (event->freshness().serving());
  EXPECT_THAT(event->freshness().reason(), HasSubstr("--max-staleness"));
  EXPECT_EQ(event->freshness().max_staleness().seconds(), 300);
}

TEST_F(WatchServiceTest, IdleStreamsGetFreshnessEveryQuarterOfMaxStaleness) {
  FakeClock clock;
  Mirror mirror(MirrorOptions{.max_staleness = absl::Seconds(1)}, &clock);
  mirror.MarkCurrent(clock.Now(), /*live=*/true);
  WatchService service(&mirror, options_);
  Watch watch(&service, v1::WatchRequest{});
  ASSERT_TRUE(watch.stream().Next()->has_snapshot());
  const absl::Time start = absl::Now();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(watch.stream().Next()->has_freshness());
  }
  // The first at once, two more 250 ms apart.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(450));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

}  // namespace
}  // namespace dtrust
