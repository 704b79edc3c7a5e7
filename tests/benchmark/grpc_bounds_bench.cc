// A legitimate client's Verify latency on a dtrustd under abuse, side by
// side with the same client on the same dtrustd unloaded (issue 12 §2):
// each round measures unloaded, then opens the load (Health/Watch streams
// on one connection, idle TCP connections), measures again and closes it.
// Also dtrustd's RSS per idle connection (--pid). See docs/benchmark.md.
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/base/owned_fd.h"
#include "tests/benchmark/bench_flags.h"
#include "tests/benchmark/bench_stats.h"

namespace dtrust::bench {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

struct Options {
  std::string endpoint = "127.0.0.1:7750";  // Plain TCP.
  int calls = 2000;                         // Verify calls per measurement.
  int watches = 2000;  // Health/Watch streams opened on one connection.
  int idle = 10000;    // Idle TCP connections.
  int rounds = 5;
  pid_t pid = 0;  // dtrustd's, for RSS; 0: not measured.
};

// dtrustd's VmRSS in kB; -1 if unknown.
int64_t RssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    int64_t kb = 0;
    if (absl::ConsumePrefix(&rest, "VmRSS:") &&
        absl::SimpleAtoi(
            absl::StripSuffix(absl::StripAsciiWhitespace(rest), " kB"), &kb)) {
      return kb;
    }
  }
  return -1;
}

// Verify latencies in microseconds: `calls` unary calls one after another
// on one connection of their own.
std::vector<double> VerifyLatencies(const Options& options) {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto stub = v1::DirectTrust::NewStub(grpc::CreateCustomChannel(
      options.endpoint, grpc::InsecureChannelCredentials(), arguments));
  v1::VerifyRequest request;
  request.set_sha256(std::string(32, '\x5a'));
  std::vector<double> latencies;
  for (int i = 0; i < options.calls + 100; ++i) {  // 100 warm-up calls.
    v1::VerifyResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    const absl::Time start = absl::Now();
    const grpc::Status status = stub->Verify(&context, request, &response);
    const double micros = absl::ToDoubleMicroseconds(absl::Now() - start);
    if (!status.ok()) {
      std::fprintf(stderr, "Verify failed: %s\n",
                   status.error_message().c_str());
      std::exit(1);
    }
    if (i >= 100) latencies.push_back(micros);
  }
  return latencies;
}

// The abuse: watch streams on one connection (held until destroyed) and
// idle connections having sent the HTTP/2 preface.
class Load {
 public:
  explicit Load(const Options& options)
      : watches_(static_cast<size_t>(options.watches)) {
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    health_ = grpc::health::v1::Health::NewStub(grpc::CreateCustomChannel(
        options.endpoint, grpc::InsecureChannelCredentials(), arguments));
    for (Watch& watch : watches_) {
      watch.reader = health_->PrepareAsyncWatch(&watch.context,
                                                HealthCheckRequest(), &queue_);
      watch.reader->StartCall(nullptr);
      watch.reader->Finish(&watch.status, nullptr);
    }
    OpenIdle(options);
  }
  ~Load() {
    for (Watch& watch : watches_) watch.context.TryCancel();
    queue_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue_.Next(&tag, &ok)) {
    }
  }
  size_t idle() const { return idle_.size(); }

 private:
  struct Watch {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReader<HealthCheckResponse>> reader;
    grpc::Status status;
  };

  void OpenIdle(const Options& options) {
    static constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    const size_t colon = options.endpoint.rfind(':');
    int port = 0;
    if (!absl::SimpleAtoi(options.endpoint.substr(colon + 1), &port)) return;
    sockaddr_in address{.sin_family = AF_INET,
                        .sin_port = htons(static_cast<uint16_t>(port)),
                        .sin_addr = {.s_addr = htonl(INADDR_LOOPBACK)},
                        .sin_zero = {}};
    for (int i = 0; i < options.idle; ++i) {
      OwnedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (fd.get() < 0 ||
          connect(fd.get(), reinterpret_cast<sockaddr*>(&address),
                  sizeof(address)) != 0) {
        break;
      }
      send(fd.get(), kPreface, sizeof(kPreface) - 1, MSG_NOSIGNAL);
      idle_.push_back(std::move(fd));
    }
  }

  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  grpc::CompletionQueue queue_;
  std::vector<Watch> watches_;
  std::vector<OwnedFd> idle_;
};

struct Round {
  double unloaded_p50, unloaded_p99, loaded_p50, loaded_p99;
  double rss_per_idle_kb = 0;
};

Round RunRound(const Options& options) {
  Round round{};
  std::vector<double> unloaded = VerifyLatencies(options);
  round.unloaded_p50 = Quantile(unloaded, 0.5);
  round.unloaded_p99 = Quantile(unloaded, 0.99);
  const int64_t rss_before = options.pid > 0 ? RssKb(options.pid) : -1;
  Load load(options);
  absl::SleepFor(absl::Seconds(1));  // Let dtrustd accept everything.
  if (rss_before >= 0 && load.idle() > 0) {
    round.rss_per_idle_kb =
        static_cast<double>(RssKb(options.pid) - rss_before) /
        static_cast<double>(load.idle());
  }
  std::vector<double> loaded = VerifyLatencies(options);
  round.loaded_p50 = Quantile(loaded, 0.5);
  round.loaded_p99 = Quantile(loaded, 0.99);
  std::fprintf(stderr,
               "round: unloaded p99 %.0f us, loaded p99 %.0f us (%zu idle)\n",
               round.unloaded_p99, round.loaded_p99, load.idle());
  return round;
}

void Report(const Options& options, const std::vector<Round>& rounds) {
  std::vector<double> u50, u99, l50, l99, ratio, rss;
  for (const Round& round : rounds) {
    u50.push_back(round.unloaded_p50);
    u99.push_back(round.unloaded_p99);
    l50.push_back(round.loaded_p50);
    l99.push_back(round.loaded_p99);
    ratio.push_back(round.loaded_p99 / round.unloaded_p99);
    rss.push_back(round.rss_per_idle_kb);
  }
  std::printf(
      "Verify at concurrency 1, %d calls per measurement, %d rounds; load: "
      "%d Health/Watch streams on one connection + %d idle TCP "
      "connections. Median (range) over rounds.\n\n",
      options.calls, options.rounds, options.watches, options.idle);
  std::printf("| | p50 µs | p99 µs |\n|---|---|---|\n");
  std::printf("| unloaded | %s | %s |\n",
              FormatSpread(SpreadOf(u50), 0).c_str(),
              FormatSpread(SpreadOf(u99), 0).c_str());
  std::printf("| under load | %s | %s |\n",
              FormatSpread(SpreadOf(l50), 0).c_str(),
              FormatSpread(SpreadOf(l99), 0).c_str());
  std::printf("\np99 under load / p99 unloaded (per round): %s\n",
              FormatSpread(SpreadOf(ratio), 2).c_str());
  if (options.pid > 0) {
    std::printf("dtrustd RSS per idle connection: %s kB\n",
                FormatSpread(SpreadOf(rss), 1).c_str());
  }
}

}  // namespace
}  // namespace dtrust::bench

int main(int argc, char** argv) {
  using namespace dtrust::bench;  // NOLINT(google-build-using-namespace)
  Options options;
  CLI::App app(
      "Verify latency on dtrustd under stream and connection abuse, "
      "side by side with unloaded.",
      "grpc_bounds_bench");
  app.add_option("--endpoint", options.endpoint,
                 "dtrustd's plain TCP HOST:PORT")
      ->type_name("HOST:PORT");
  AddPositiveOption(app, "--calls", options.calls, "N",
                    "Verify calls per measurement (default 2000)");
  AddPositiveOption(app, "--watches", options.watches, "N",
                    "Health/Watch streams on one connection (default 2000)");
  AddPositiveOption(app, "--idle", options.idle, "N",
                    "idle TCP connections (default 10000)");
  AddPositiveOption(app, "--rounds", options.rounds, "N", "(default 5)");
  AddPositiveOption(app, "--pid", options.pid, "PID",
                    "dtrustd's pid, to report its RSS per idle connection");
  ParseFlagsOrExit(app, argc, argv);
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  std::vector<Round> rounds;
  for (int i = 0; i < options.rounds; ++i) rounds.push_back(RunRound(options));
  Report(options, rounds);
  return 0;
}
