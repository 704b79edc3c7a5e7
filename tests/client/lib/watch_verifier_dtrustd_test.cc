// The in-process copy fed by a real dtrustd's Watch (over a real slapd):
// when its stream breaks while dtrustd keeps its data, the copy resumes from
// its epoch and version and gets the changes it missed, not a new snapshot.
#include <signal.h>

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "client/channel_security.h"
#include "client/grpc_dtrustd_client.h"
#include "client/lib/watch_source.h"
#include "client/lib/watch_verifier.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/eventually.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

namespace dtrust::testing {
namespace {

// What came through a WatchSource: each stream's request and how many
// snapshot chunks and changes it delivered. Thread-safe.
class WatchLog {
 public:
  struct Stream {
    v1::WatchRequest request;
    int snapshot_chunks = 0;
    int changes = 0;
  };
  int Open(const v1::WatchRequest& request) {
    std::lock_guard lock(mutex_);
    streams_.push_back({.request = request});
    return static_cast<int>(streams_.size()) - 1;
  }
  void Saw(int stream, const v1::WatchEvent& event) {
    std::lock_guard lock(mutex_);
    streams_[stream].snapshot_chunks += event.has_snapshot();
    streams_[stream].changes += event.has_change();
  }
  std::vector<Stream> streams() {
    std::lock_guard lock(mutex_);
    return streams_;
  }

 private:
  std::mutex mutex_;
  std::vector<Stream> streams_;
};

// A WatchSource that passes everything through to `real` and logs it.
class LoggingWatchSource : public lib::WatchSource {
 public:
  LoggingWatchSource(std::unique_ptr<lib::WatchSource> real, WatchLog* log)
      : real_(std::move(real)), log_(log) {}

  absl::StatusOr<std::unique_ptr<lib::WatchStream>> Open(
      const v1::WatchRequest& request) override {
    absl::StatusOr<std::unique_ptr<lib::WatchStream>> stream =
        real_->Open(request);
    if (!stream.ok()) return stream;
    return std::make_unique<Logged>(*std::move(stream), log_,
                                    log_->Open(request));
  }

 private:
  class Logged : public lib::WatchStream {
   public:
    Logged(std::unique_ptr<lib::WatchStream> real, WatchLog* log, int index)
        : real_(std::move(real)), log_(log), index_(index) {}
    absl::StatusOr<v1::WatchEvent> Next(absl::Duration timeout) override {
      absl::StatusOr<v1::WatchEvent> event = real_->Next(timeout);
      if (event.ok()) log_->Saw(index_, *event);
      return event;
    }
    void Cancel() override { real_->Cancel(); }

   private:
    const std::unique_ptr<lib::WatchStream> real_;
    WatchLog* const log_;
    const int index_;
  };

  const std::unique_ptr<lib::WatchSource> real_;
  WatchLog* const log_;
};

absl::Status Publish(cli::DtrustdClient& client, const TestCert& cert) {
  v1::PublishRequest publish;
  publish.set_server("mx1.org-b.example");
  publish.add_domains("org-b.example");
  publish.set_certificate_der(cert.der);
  return client.Publish(publish).status();
}

lib::VerifyQuery QueryFor(const TestCert& cert) {
  const Certificate parsed = *Certificate::FromDer(cert.der, "cert");
  return {.sha256 = parsed.sha256(),
          .spki_sha256 = parsed.spki_sha256(),
          .expected_server = "mx1.org-b.example",
          .expected_domain = "org-b.example"};
}

bool Trusted(lib::WatchVerifier& copy, const TestCert& cert) {
  absl::StatusOr<lib::VerifyAnswer> answer = copy.Verify(QueryFor(cert));
  return answer.ok() && answer->verdict == DTRUST_VERDICT_TRUSTED;
}

// dtrustd frozen (SIGSTOP) longer than the copy's read deadline: the stream
// breaks; once dtrustd runs again the copy reconnects with its position,
// and a certificate published meanwhile arrives as a change.
TEST(WatchVerifierDtrustdTest, ABrokenStreamResumesWithoutANewSnapshot) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartWithLdap(**slapd, {"--max-staleness", "4s"});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const cli::ChannelSecurity security = *cli::MakeChannelSecurity({});
  cli::GrpcDtrustdClient client((*dtrustd)->endpoint(), absl::Seconds(10),
                                security);
  const TestCert first = MakeTestCert(), second = MakeTestCert();
  ASSERT_TRUE(Publish(client, first).ok());

  WatchLog log;
  lib::WatchVerifier copy(
      std::make_unique<LoggingWatchSource>(
          lib::NewGrpcWatchSource((*dtrustd)->endpoint(), security), &log),
      Clock::Real(),
      {.connect_timeout = absl::Seconds(1),
       .read_timeout = absl::Seconds(1.5),
       .min_backoff = absl::Milliseconds(50),
       .max_backoff = absl::Milliseconds(200)});
  ASSERT_TRUE(copy.WaitReady(absl::Seconds(10)).ok());
  EXPECT_TRUE(Trusted(copy, first));
  const lib::WatchVerifier::Position before = copy.position();

  ASSERT_EQ(kill((*dtrustd)->pid(), SIGSTOP), 0);
  absl::SleepFor(absl::Seconds(2.5));
  ASSERT_EQ(kill((*dtrustd)->pid(), SIGCONT), 0);
  ASSERT_TRUE(Publish(client, second).ok());
  EXPECT_TRUE(Eventually([&] { return Trusted(copy, second); }))
      << "the publication never reached the copy";
  EXPECT_TRUE(Trusted(copy, first));

  const std::vector<WatchLog::Stream> streams = log.streams();
  ASSERT_GE(streams.size(), 2u) << "the stream never broke";
  EXPECT_GT(streams.front().snapshot_chunks, 0);
  EXPECT_EQ(copy.position().epoch, before.epoch);
  EXPECT_GT(copy.position().version, before.version);
  for (size_t i = 1; i < streams.size(); ++i) {
    EXPECT_EQ(streams[i].request.resume_epoch(), before.epoch) << i;
    EXPECT_EQ(streams[i].snapshot_chunks, 0) << "stream " << i;
  }
  EXPECT_GT(streams.back().changes, 0);
}

}  // namespace
}  // namespace dtrust::testing
