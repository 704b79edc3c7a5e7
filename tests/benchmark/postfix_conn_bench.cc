// Benchmark of dtrustd's Postfix-facing servers under many connections
// (issue 12 §1), this build's dtrustd and optionally an older one side by
// side in one run, both over one slapd and the same published domains:
// - socketmap and policy requests/s and p50/p99 at 1, 32 and 1,000
//   connections;
// - a legitimate policy client's p99 before and while N idle policy
//   connections are held (each sent one request first, as an smtpd does),
//   from 127.0.1.x source addresses, 500 per address, like many MTAs;
// - dtrustd's RSS (/proc/PID/status) per idle connection held, and its
//   thread count.
// Prints a Markdown table.
//
//   postfix_conn_bench [--quick] [--idle N] [--baseline-dtrustd PATH]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/base/command_line.h"
#include "server/base/fd_limit.h"
#include "server/base/owned_fd.h"
#include "tests/benchmark/bench_flags.h"
#include "tests/benchmark/load_client.h"
#include "tests/benchmark/postfix_requests.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/slapd_fixture.h"

namespace dtrust::bench {
namespace {

// Idle connections per source address (under dtrustd's default limit of
// 1,000 per client).
constexpr int kIdlePerSourceAddress = 500;

struct Options {
  bool quick = false;
  int idle = 10000;
  int domains = 100;
  std::string baseline_dtrustd;
};

// What one dtrustd measured.
struct Measured {
  std::vector<LoadResult> socketmap;  // At each load's connection count.
  std::vector<LoadResult> policy;
  LoadResult alone;  // The legitimate policy client without idle ones.
  LoadResult with_idle;
  bool with_idle_refused = false;
  int idle_held = 0;
  int idle_refused = 0;
  int64_t rss_before = 0;  // Bytes.
  int64_t rss_idle = 0;
  int64_t threads_idle = 0;
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "postfix_conn_bench: %s\n", message.c_str());
  std::exit(1);
}

template <typename T>
T Check(absl::StatusOr<T> value, const std::string& what) {
  if (!value.ok()) Die(absl::StrCat(what, ": ", value.status().ToString()));
  return *std::move(value);
}

// A "Name:   N kB"-style field of /proc/PID/status, as a number (kB for
// VmRSS); -1 if missing.
int64_t ProcStatusField(pid_t pid, const std::string& field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::string digits;
    for (char c : line) {
      if (c >= '0' && c <= '9') digits += c;
    }
    int64_t value = -1;
    return absl::SimpleAtoi(digits, &value) ? value : -1;
  }
  return -1;
}

// The port dtrustd logged for `service` ("policy service listening on
// inet:127.0.0.1:PORT").
int ListeningPort(const testing::DtrustdProcess& dtrustd,
                  const std::string& service) {
  const std::string log = dtrustd.Log();
  const std::string marker =
      absl::StrCat(service, " service listening on inet:127.0.0.1:");
  const size_t at = log.find(marker);
  int port = 0;
  if (at == std::string::npos ||
      !absl::SimpleAtoi(log.substr(at + marker.size(),
                                   log.find('\n', at) - at - marker.size()),
                        &port)) {
    Die(absl::StrCat("no ", service, " port in dtrustd's log:\n", log));
  }
  return port;
}

// Connects from 127.0.1.X to 127.0.0.1:`port`, sends one policy request
// and waits for its reply; the descriptor on success, -1 when the server
// refused or closed the connection.
int OpenIdleConnection(int port, int index,
                       const std::vector<Published>& published) {
  OwnedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in source{};
  source.sin_family = AF_INET;
  const std::string source_ip =
      absl::StrCat("127.0.1.", 1 + index / kIdlePerSourceAddress);
  inet_pton(AF_INET, source_ip.c_str(), &source.sin_addr);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(port));
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const timeval timeout = absl::ToTimeval(absl::Seconds(5));
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (fd.get() < 0 ||
      bind(fd.get(), reinterpret_cast<sockaddr*>(&source), sizeof(source)) ||
      connect(fd.get(), reinterpret_cast<sockaddr*>(&server), sizeof(server))) {
    Die(absl::StrCat("cannot connect from ", source_ip, " (connection ", index,
                     ")"));
  }
  const std::string request = PolicyRequest(index, -1, published);
  if (send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return -1;
  }
  std::string reply;
  char chunk[4096];
  while (PolicyReplyLength(reply) == 0) {
    const ssize_t n = recv(fd.get(), chunk, sizeof(chunk), 0);
    if (n <= 0) return -1;
    reply.append(chunk, static_cast<size_t>(n));
  }
  if (!IsDomainSecured(reply)) Die("unexpected policy reply: " + reply);
  return fd.release();
}

// Waits (at most 30 s) until dtrustd's mirror answers policy requests for
// the published domains.
void WaitUntilAnswering(int policy_port,
                        const std::vector<Published>& published) {
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  LoadSpec probe = PolicyLoad(&published, 0);
  probe.tcp_port = policy_port;
  probe.duration = absl::Milliseconds(50);
  while (!RunLoad(probe).ok()) {
    if (absl::Now() > give_up) Die("dtrustd does not answer policy requests");
    absl::SleepFor(absl::Milliseconds(100));
  }
}

LoadResult RunOrDie(LoadSpec spec, int port, int connections,
                    absl::Duration duration, const std::string& what) {
  spec.tcp_port = port;
  spec.connections = connections;
  spec.duration = duration;
  return Check(RunLoad(spec), what);
}

// The legitimate client alone, then while `options.idle` connections are
// held; RSS and threads of `pid` around them.
void MeasureIdle(const Options& options, pid_t pid, int policy_port,
                 const std::vector<Published>& published,
                 absl::Duration duration, Measured* measured) {
  measured->alone = RunOrDie(PolicyLoad(&published, 0), policy_port, 1,
                             duration, "policy alone");
  measured->rss_before = ProcStatusField(pid, "VmRSS") * 1024;
  std::vector<OwnedFd> idle;
  for (int i = 0; i < options.idle; ++i) {
    const int fd = OpenIdleConnection(policy_port, i, published);
    if (fd < 0) {
      ++measured->idle_refused;
    } else {
      idle.emplace_back(fd);
    }
  }
  measured->idle_held = static_cast<int>(idle.size());
  measured->rss_idle = ProcStatusField(pid, "VmRSS") * 1024;
  measured->threads_idle = ProcStatusField(pid, "Threads");
  measured->with_idle = RunOrDie(PolicyLoad(&published, 1), policy_port, 1,
                                 duration, "policy with idle connections");
  measured->with_idle_refused = measured->with_idle.refused > 0;
}

Measured Measure(const Options& options, const testing::SlapdFixture& slapd,
                 const std::string& binary, std::vector<Published>* published) {
  std::unique_ptr<testing::DtrustdProcess> dtrustd =
      Check(testing::DtrustdProcess::Start(
                {"--ldap-uri", slapd.uri(), "--base-dn", slapd.suffix(),
                 "--bind-dn", slapd.bind_dn(), "--bind-password-file",
                 slapd.bind_password_file(), "--socketmap-listen",
                 "inet:127.0.0.1:0", "--policy-listen", "inet:127.0.0.1:0"},
                binary),
            binary.empty() ? "dtrustd" : binary);
  if (published->empty()) {
    *published =
        Check(Populate(dtrustd->endpoint(), options.domains), "populate");
  }
  const int socketmap_port = ListeningPort(*dtrustd, "socketmap");
  const int policy_port = ListeningPort(*dtrustd, "policy");
  WaitUntilAnswering(policy_port, *published);
  const absl::Duration duration =
      options.quick ? absl::Milliseconds(200) : absl::Seconds(3);
  Measured measured;
  // First, so that memory freed by the loads cannot hide what idle
  // connections cost.
  MeasureIdle(options, dtrustd->pid(), policy_port, *published, duration,
              &measured);
  for (int connections : {1, 32, options.quick ? 100 : 1000}) {
    measured.socketmap.push_back(RunOrDie(SocketmapLoad(options.domains),
                                          socketmap_port, connections, duration,
                                          "socketmap"));
    measured.policy.push_back(RunOrDie(PolicyLoad(published, connections),
                                       policy_port, connections, duration,
                                       "policy"));
  }
  return measured;
}

std::string LoadCell(const LoadResult& r) {
  std::string cell = absl::StrFormat(
      "%.0f/s, p50 %.0f µs, p99 %.0f µs", r.requests_per_second,
      absl::ToDoubleMicroseconds(r.p50), absl::ToDoubleMicroseconds(r.p99));
  if (r.refused > 0) absl::StrAppend(&cell, ", ", r.refused, " refused");
  return cell;
}

std::string IdleCells(const Measured& m, const std::string& column) {
  const double per_idle = m.idle_held > 0
                              ? static_cast<double>(m.rss_idle - m.rss_before) /
                                    m.idle_held / 1024.0
                              : 0;
  const double alone = absl::ToDoubleMicroseconds(m.alone.p99);
  const double with_idle = absl::ToDoubleMicroseconds(m.with_idle.p99);
  return absl::StrCat(
      column, "idle connections held: ", m.idle_held, " (", m.idle_refused,
      " refused)",
      absl::StrFormat("%sRSS: %.1f MiB before, %.1f MiB with them held: "
                      "%.1f KiB per idle connection; %d threads",
                      column, m.rss_before / 1048576.0, m.rss_idle / 1048576.0,
                      per_idle, m.threads_idle),
      column,
      m.with_idle_refused
          ? std::string("legitimate client refused while they are held")
          : absl::StrFormat("legitimate client p99 %.0f µs alone, %.0f µs "
                            "with them held: %.2f×",
                            alone, with_idle, with_idle / alone));
}

std::string Report(const Options& options,
                   const std::vector<std::pair<std::string, Measured>>& runs) {
  std::string report = "| measure |";
  std::string rule = "|---|";
  for (const auto& [name, measured] : runs) {
    absl::StrAppend(&report, " ", name, " |");
    rule += "---|";
  }
  absl::StrAppend(&report, "\n", rule, "\n");
  const std::vector<int> counts = {1, 32, options.quick ? 100 : 1000};
  for (size_t i = 0; i < counts.size(); ++i) {
    for (const char* service : {"socketmap", "policy"}) {
      absl::StrAppend(&report, "| ", service, ", ", counts[i],
                      " connections |");
      for (const auto& [name, m] : runs) {
        const LoadResult& r =
            std::string(service) == "socketmap" ? m.socketmap[i] : m.policy[i];
        absl::StrAppend(&report, " ", LoadCell(r), " |");
      }
      absl::StrAppend(&report, "\n");
    }
  }
  for (const auto& [name, m] : runs) {
    absl::StrAppend(&report, "\n**", name, "**, ", options.idle,
                    " idle policy connections:", IdleCells(m, "\n- "), "\n");
  }
  return report;
}

}  // namespace
}  // namespace dtrust::bench

int main(int argc, char** argv) {
  dtrust::bench::Options options;
  CLI::App app(
      "Benchmarks dtrustd's Postfix-facing servers under many connections,\n"
      "side by side with an older dtrustd when given.",
      "postfix_conn_bench");
  app.add_flag("--quick", options.quick,
               "everything briefly (a smoke test, not a measurement)");
  dtrust::bench::AddPositiveOption(app, "--idle", options.idle, "N",
                                   "idle connections to hold (default 10000)");
  app.add_option("--baseline-dtrustd", options.baseline_dtrustd,
                 "an older dtrustd binary to measure alongside")
      ->type_name("PATH");
  dtrust::bench::ParseFlagsOrExit(app, argc, argv);
  if (options.quick) {
    options.idle = std::min(options.idle, 200);
    options.domains = 10;
  }
  const absl::StatusOr<uint64_t> fd_limit = dtrust::RaiseOpenFileLimit();
  if (!fd_limit.ok() ||
      *fd_limit < static_cast<uint64_t>(options.idle) + 2000) {
    dtrust::bench::Die(absl::StrCat("RLIMIT_NOFILE too low for ", options.idle,
                                    " idle connections"));
  }
  auto slapd =
      dtrust::bench::Check(dtrust::testing::SlapdFixture::Start(), "slapd");
  std::vector<dtrust::bench::Published> published;
  std::vector<std::pair<std::string, dtrust::bench::Measured>> runs;
  runs.emplace_back("this build",
                    dtrust::bench::Measure(options, *slapd, "", &published));
  if (!options.baseline_dtrustd.empty()) {
    runs.emplace_back(
        absl::StrCat("baseline (", options.baseline_dtrustd, ")"),
        dtrust::bench::Measure(options, *slapd, options.baseline_dtrustd,
                               &published));
  }
  std::fputs(dtrust::bench::Report(options, runs).c_str(), stdout);
  return 0;
}
