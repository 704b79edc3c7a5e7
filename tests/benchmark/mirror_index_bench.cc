// The mirror's index alone, in process: memory per pinned certificate and
// lookup latency at 1k, 100k and 1M pins, for servers with one pin each
// (the worst case for memory: a server entry per pin), two and four.
// Each configuration runs in a fresh child process so that its resident
// memory is its own. Usage: mirror_index_bench [--quick]
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/mirror/mirror_index.h"
#include "tests/benchmark/bench_flags.h"
#include "tests/benchmark/bench_stats.h"

namespace dtrust::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Resident set size of this process, in bytes.
long ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

EntryUuid UuidOf(uint64_t n, uint8_t kind) {
  EntryUuid uuid{};
  for (int i = 0; i < 8; ++i) uuid[i] = static_cast<uint8_t>(n >> (8 * i));
  uuid[8] = kind;
  uuid[15] = 1;
  return uuid;
}

Sha256Digest CertDigest(uint64_t n) {
  return Sha256Digest::Of(absl::StrCat("certificate ", n));
}

struct Result {
  double load_seconds = 0;
  double rss_bytes_per_pin = 0;
  double index_bytes_per_pin = 0;
  double lookup_p50_ns = 0;
  double lookup_p99_ns = 0;
};

Result Measure(uint64_t pins, uint64_t pins_per_server) {
  const long rss_before = ResidentBytes();
  MirrorIndex index;
  const absl::Time not_before = absl::FromUnixSeconds(1'780'000'000);
  const SteadyClock::time_point start = SteadyClock::now();
  for (uint64_t n = 0; n < pins; ++n) {
    const uint64_t server = n / pins_per_server;
    // Realistic names: "mx123456.org-123456.example".
    const std::string name =
        absl::StrCat("mx", server, ".org-", server / 4, ".example");
    if (n % pins_per_server == 0) {
      index.Write()->PutServer(UuidOf(server, 1), name,
                               {absl::StrCat("org-", server / 4, ".example")});
    }
    PinRecord pin;
    pin.cert_sha256 = CertDigest(n);
    pin.spki_sha256 = Sha256Digest::Of(absl::StrCat("key ", n));
    pin.not_before = not_before;
    pin.not_after = not_before + absl::Hours(24 * 365);
    pin.publisher = "unix:";
    index.Write()->PutPin(UuidOf(n, 2), name, pin);
  }
  Result result;
  result.load_seconds =
      std::chrono::duration<double>(SteadyClock::now() - start).count();
  result.rss_bytes_per_pin =
      static_cast<double>(ResidentBytes() - rss_before) / pins;
  result.index_bytes_per_pin =
      static_cast<double>(index.Read()->Counts().bytes) / pins;

  std::mt19937_64 random(7);
  std::vector<Sha256Digest> probes;
  for (int i = 0; i < 100'000; ++i)
    probes.push_back(CertDigest(random() % pins));
  std::vector<double> latencies;
  latencies.reserve(probes.size());
  size_t found = 0;
  for (const Sha256Digest& digest : probes) {
    const SteadyClock::time_point t0 = SteadyClock::now();
    found += index.Read()->FindByDigest(&digest, nullptr).size();
    latencies.push_back(
        std::chrono::duration<double, std::nano>(SteadyClock::now() - t0)
            .count());
  }
  if (found != probes.size()) {
    std::fprintf(stderr, "lookups found %zu of %zu\n", found, probes.size());
    std::exit(1);
  }
  result.lookup_p50_ns = Quantile(latencies, 0.5);
  result.lookup_p99_ns = Quantile(latencies, 0.99);
  return result;
}

// Runs Measure in a child; its result comes back through a pipe.
Result MeasureInChild(uint64_t pins, uint64_t pins_per_server) {
  int fds[2];
  if (pipe(fds) != 0) std::exit(1);
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    const Result result = Measure(pins, pins_per_server);
    const ssize_t written = write(fds[1], &result, sizeof(result));
    _exit(written == sizeof(result) ? 0 : 1);
  }
  close(fds[1]);
  Result result;
  const ssize_t got = read(fds[0], &result, sizeof(result));
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (got != sizeof(result) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "measurement of %lu pins failed\n",
                 static_cast<unsigned long>(pins));
    std::exit(1);
  }
  return result;
}

int Main(int argc, char** argv) {
  bool quick = false;
  CLI::App app(
      "The mirror's index alone: memory per pin and lookup latency by size.",
      "mirror_index_bench");
  app.add_flag("--quick", quick, "small sizes only (a smoke test)");
  ParseFlagsOrExit(app, argc, argv);
  const std::vector<uint64_t> sizes =
      quick ? std::vector<uint64_t>{1'000, 10'000}
            : std::vector<uint64_t>{1'000, 100'000, 1'000'000};
  std::printf(
      "| pins | pins/server | load | RSS bytes/pin | index bytes/pin | "
      "lookup p50 | lookup p99 | p50 vs smallest |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (uint64_t pins_per_server : {1, 2, 4}) {
    double smallest_p50 = 0;
    for (uint64_t pins : sizes) {
      const Result r = MeasureInChild(pins, pins_per_server);
      if (smallest_p50 == 0) smallest_p50 = r.lookup_p50_ns;
      std::printf(
          "| %lu | %lu | %.2f s | %.0f | %.0f | %.0f ns | %.0f ns | "
          "%.2fx |\n",
          static_cast<unsigned long>(pins),
          static_cast<unsigned long>(pins_per_server), r.load_seconds,
          r.rss_bytes_per_pin, r.index_bytes_per_pin, r.lookup_p50_ns,
          r.lookup_p99_ns, r.lookup_p50_ns / smallest_p50);
    }
  }
  return 0;
}

}  // namespace
}  // namespace dtrust::bench

int main(int argc, char** argv) { return dtrust::bench::Main(argc, argv); }
