// libdtrust's in-process copy (WatchVerifier) beside the RPC path
// (RpcVerifier) in one run (issue 14 §2): the cost of one check at 100,000
// pins, median and range over rounds. The copy is fed through a fake Watch
// stream (dtrustd's Watch is built in another tree); the RPC path asks a
// real dtrustd (embedded slapd) holding the certificate checked.
// Then, against that dtrustd's Watch, how long an unpublish takes to reach
// an in-process copy (--trials times).
// Usage: in_process_bench [--quick] [--pins N] [--rounds N] [--trials N]
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "client/channel_security.h"
#include "client/grpc_dtrustd_client.h"
#include "client/lib/verifier.h"
#include "client/lib/watch_source.h"
#include "client/lib/watch_verifier.h"
#include "server/core/certificate.h"
#include "tests/benchmark/bench_flags.h"
#include "tests/benchmark/bench_stats.h"
#include "tests/client/lib/fake_watch_source.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/test_certs.h"

namespace dtrust::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Pause after each RPC round: gRPC's threads (dtrustd's and this client's)
// stay busy for a moment after a burst, and on a 2-vCPU machine that work
// would otherwise be timed as the next in-process round's.
constexpr absl::Duration kSettle = absl::Seconds(1);

struct Options {
  int pins = 100'000;
  int rounds = 9;
  int checks = 200'000;  // In-process checks per round.
  int calls = 2'000;     // RPC calls per round.
  int trials = 100;      // Revocations timed.
};

std::string ServerName(int n) { return absl::StrCat("mx", n, ".example.org"); }
Sha256Digest CertDigest(int n) { return Sha256Digest::Of(absl::StrCat(n)); }
Sha256Digest KeyDigest(int n) { return Sha256Digest::Of(absl::StrCat("k", n)); }

// Fills the copy through `feed` with `pins` servers of one pin each, in
// chunks of 1,000 servers, and waits until it answers.
bool Fill(testing::FakeWatchFeed& feed, lib::WatchVerifier& copy, int pins) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  for (int first = 0, index = 0; first < pins; first += 1000, ++index) {
    v1::WatchEvent event;
    v1::WatchSnapshotChunk* chunk = event.mutable_snapshot();
    chunk->set_epoch(1);
    chunk->set_version(1);
    chunk->set_index(index);
    chunk->set_last(first + 1000 >= pins);
    for (int n = first; n < std::min(pins, first + 1000); ++n) {
      v1::ServerEntry* server = chunk->add_servers();
      server->set_name(ServerName(n));
      server->add_domains("example.org");
      v1::Pin* pin = server->add_pins();
      pin->set_sha256(std::string(CertDigest(n).bytes()));
      pin->set_spki_sha256(std::string(KeyDigest(n).bytes()));
      pin->mutable_not_before()->set_seconds(now - 86400);
      pin->mutable_not_after()->set_seconds(now + 86400 * 365);
    }
    feed.Push(std::move(event));
  }
  v1::WatchEvent freshness;
  freshness.mutable_freshness()->set_serving(true);
  freshness.mutable_freshness()->mutable_max_staleness()->set_seconds(3600);
  feed.Push(std::move(freshness));
  return copy.WaitReady(absl::Seconds(120)).ok();
}

// Nanoseconds per check over `count` checks of random published pins, each
// expected to be TRUSTED; negative when one is not.
double NanosPerCheck(lib::Verifier& verifier,
                     const std::vector<lib::VerifyQuery>& queries, int count) {
  const SteadyClock::time_point start = SteadyClock::now();
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<lib::VerifyAnswer> answer =
        verifier.Verify(queries[i % queries.size()]);
    if (!answer.ok() || answer->verdict != DTRUST_VERDICT_TRUSTED) {
      std::fprintf(stderr, "check failed: %s\n",
                   answer.ok() ? answer->reason.c_str()
                               : answer.status().ToString().c_str());
      return -1;
    }
  }
  return std::chrono::duration<double, std::nano>(SteadyClock::now() - start)
             .count() /
         count;
}

// A real dtrustd with `cert` published for mx1.org-b.example.
absl::StatusOr<std::unique_ptr<testing::DtrustdProcess>> StartDtrustd(
    const testing::TestCert& cert) {
  absl::StatusOr<std::unique_ptr<testing::DtrustdProcess>> dtrustd =
      testing::DtrustdProcess::StartEmbedded();
  if (!dtrustd.ok()) return dtrustd.status();
  cli::GrpcDtrustdClient client((*dtrustd)->endpoint(), absl::Seconds(10),
                                *cli::MakeChannelSecurity({}));
  v1::PublishRequest publish;
  publish.set_server("mx1.org-b.example");
  publish.add_domains("org-b.example");
  publish.set_certificate_der(cert.der);
  absl::StatusOr<v1::PublishResponse> published = client.Publish(publish);
  if (!published.ok()) return published.status();
  return dtrustd;
}

// Waits (up to 5 s, polling) until `copy` answers `verdict` for `query`.
bool AwaitVerdict(lib::Verifier& copy, const lib::VerifyQuery& query,
                  dtrust_verdict verdict) {
  const SteadyClock::time_point until =
      SteadyClock::now() + std::chrono::seconds(5);
  while (SteadyClock::now() < until) {
    absl::StatusOr<lib::VerifyAnswer> answer = copy.Verify(query);
    if (answer.ok() && answer->verdict == verdict) return true;
  }
  return false;
}

// Milliseconds from the start of each Unpublish call to the first answer of
// an in-process copy fed by `endpoint`'s Watch saying NOT_PUBLISHED, over
// `trials` certificates each published (and seen TRUSTED) first. Empty on
// an error.
std::vector<double> RevocationMillis(const std::string& endpoint, int trials) {
  const cli::ChannelSecurity security = *cli::MakeChannelSecurity({});
  lib::WatchVerifier copy(lib::NewGrpcWatchSource(endpoint, security),
                          Clock::Real());
  cli::GrpcDtrustdClient dtrustd(endpoint, absl::Seconds(10), security);
  if (!copy.WaitReady(absl::Seconds(30)).ok()) return {};
  std::vector<double> millis;
  for (int trial = 0; trial < trials; ++trial) {
    const testing::TestCert cert = testing::MakeTestCert();
    const Certificate parsed = *Certificate::FromDer(cert.der, "cert");
    const lib::VerifyQuery query{.sha256 = parsed.sha256(),
                                 .spki_sha256 = parsed.spki_sha256(),
                                 .expected_server = "revoked.org-b.example",
                                 .expected_domain = ""};
    v1::PublishRequest publish;
    publish.set_server("revoked.org-b.example");
    publish.add_domains("org-b.example");
    publish.set_certificate_der(cert.der);
    v1::UnpublishRequest unpublish;
    unpublish.set_certificate_der(cert.der);
    if (!dtrustd.Publish(publish).ok() ||
        !AwaitVerdict(copy, query, DTRUST_VERDICT_TRUSTED)) {
      return {};
    }
    const SteadyClock::time_point start = SteadyClock::now();
    if (!dtrustd.Unpublish(unpublish).ok() ||
        !AwaitVerdict(copy, query, DTRUST_VERDICT_NOT_PUBLISHED)) {
      return {};
    }
    millis.push_back(
        std::chrono::duration<double, std::milli>(SteadyClock::now() - start)
            .count());
  }
  return millis;
}

int Run(const Options& options) {
  testing::FakeWatchFeed feed;
  lib::WatchVerifier copy(std::make_unique<testing::FakeWatchSource>(&feed),
                          Clock::Real());
  if (!Fill(feed, copy, options.pins)) return 1;
  std::vector<lib::VerifyQuery> queries;
  std::mt19937 random(1);
  for (int i = 0; i < 4096; ++i) {
    const int n = static_cast<int>(random() % options.pins);
    queries.push_back({.sha256 = CertDigest(n),
                       .spki_sha256 = KeyDigest(n),
                       .expected_server = ServerName(n),
                       .expected_domain = ""});
  }
  const testing::TestCert cert = testing::MakeTestCert();
  absl::StatusOr<std::unique_ptr<testing::DtrustdProcess>> dtrustd =
      StartDtrustd(cert);
  if (!dtrustd.ok()) {
    std::fprintf(stderr, "dtrustd: %s\n", dtrustd.status().ToString().c_str());
    return 1;
  }
  lib::RpcVerifier rpc(std::make_unique<cli::GrpcDtrustdClient>(
      (*dtrustd)->endpoint(), absl::Seconds(10),
      *cli::MakeChannelSecurity({})));
  absl::StatusOr<Certificate> parsed = Certificate::FromDer(cert.der, "cert");
  const std::vector<lib::VerifyQuery> rpc_query{
      {.sha256 = parsed->sha256(),
       .spki_sha256 = parsed->spki_sha256(),
       .expected_server = "mx1.org-b.example",
       .expected_domain = ""}};
  std::vector<double> in_process, over_rpc;
  for (int round = 0; round < options.rounds; ++round) {
    in_process.push_back(NanosPerCheck(copy, queries, options.checks));
    over_rpc.push_back(NanosPerCheck(rpc, rpc_query, options.calls));
    if (in_process.back() < 0 || over_rpc.back() < 0) return 1;
    absl::SleepFor(kSettle);
  }
  std::vector<double> revocations =
      RevocationMillis((*dtrustd)->endpoint(), options.trials);
  if (revocations.empty()) {
    std::fprintf(stderr, "revocation: no answer from the copy\n");
    return 1;
  }
  const double revocation_p50 = Quantile(revocations, 0.5);
  const double revocation_p99 = Quantile(revocations, 0.99);
  const Spread local = SpreadOf(in_process), remote = SpreadOf(over_rpc);
  std::printf(
      "pins %d, rounds %d (%d in-process checks, %d RPC calls each)\n"
      "in-process check: %s ns\nRPC Verify:       %s ns\n"
      "ratio RPC / in-process (medians): %.0f\n"
      "revocation reaching the copy (%d trials): p50 %.2f ms, p99 %.2f ms, "
      "max %.2f ms\n",
      options.pins, options.rounds, options.checks, options.calls,
      FormatSpread(local, 0).c_str(), FormatSpread(remote, 0).c_str(),
      remote.median / local.median, options.trials, revocation_p50,
      revocation_p99, revocations.back());
  std::printf(
      "{\"pins\":%d,\"in_process_ns\":%s,\"rpc_ns\":%s,"
      "\"revocation_ms\":{\"p50\":%.3f,\"p99\":%.3f}}\n",
      options.pins, SpreadJson(local).c_str(), SpreadJson(remote).c_str(),
      revocation_p50, revocation_p99);
  return 0;
}

}  // namespace
}  // namespace dtrust::bench

int main(int argc, char** argv) {
  dtrust::bench::Options options;
  bool quick = false;
  CLI::App app{"libdtrust's in-process copy beside the RPC path"};
  app.add_flag("--quick", quick, "a small run (the smoke test)");
  dtrust::bench::AddPositiveOption(app, "--pins", options.pins, "N",
                                   "pins in the copy (default 100000)");
  dtrust::bench::AddPositiveOption(app, "--rounds", options.rounds, "N",
                                   "rounds (default 9)");
  dtrust::bench::AddPositiveOption(app, "--trials", options.trials, "N",
                                   "revocations timed (default 100)");
  dtrust::bench::ParseFlagsOrExit(app, argc, argv);
  if (quick) {
    options = {
        .pins = 2000, .rounds = 3, .checks = 2000, .calls = 50, .trials = 5};
  }
  return dtrust::bench::Run(options);
}
