// Benchmark of dtrustd's Postfix-facing services (socketmap for
// smtp_tls_policy_maps, policy delegation for check_policy_service), and of
// Postfix's own `ldap:` table against the same directory, side by side in one
// run. Starts its own slapd and dtrustd; prints a Markdown report.
//
//   postfix_bench [--quick] [--domains N] [--dtrustd-arg ARG]...
//
// --quick runs everything briefly (a smoke test for ctest, not a
// measurement). --dtrustd-arg passes ARG on to dtrustd (e.g.
// --directory-sync=none).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/base/command_line.h"
#include "tests/benchmark/bench_flags.h"
#include "tests/benchmark/load_client.h"
#include "tests/benchmark/postfix_requests.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/slapd_fixture.h"

namespace dtrust::bench {
namespace {

struct Options {
  bool quick = false;
  int domains = 100;
  std::vector<std::string> dtrustd_args;
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "postfix_bench: %s\n", message.c_str());
  std::exit(1);
}

template <typename T>
T Check(absl::StatusOr<T> value, const std::string& what) {
  if (!value.ok()) Die(absl::StrCat(what, ": ", value.status().ToString()));
  return *std::move(value);
}

std::string FormatLoad(absl::string_view what, const LoadResult& r) {
  return absl::StrFormat(
      "| %s | %d | %.0f | %.1f | %.1f | %.1f |\n", what, r.connections,
      r.requests_per_second, absl::ToDoubleMicroseconds(r.p50),
      absl::ToDoubleMicroseconds(r.p99), absl::ToDoubleMicroseconds(r.p999));
}

// Seconds `command` took, or a negative number if it failed.
double TimeShell(const std::string& command) {
  const absl::Time start = absl::Now();
  const int status = std::system(command.c_str());
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return status == 0 ? seconds : -1;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::string Run(const Options& options) {
  std::unique_ptr<testing::SlapdFixture> slapd =
      Check(testing::SlapdFixture::Start(), "slapd");
  char dir_template[] = "/tmp/dtrust-bench-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  const std::string socketmap = dir + "/socketmap";
  const std::string policy = dir + "/policy";
  std::vector<std::string> dtrustd_args = {"--ldap-uri",
                                           slapd->uri(),
                                           "--base-dn",
                                           slapd->suffix(),
                                           "--bind-dn",
                                           slapd->bind_dn(),
                                           "--bind-password-file",
                                           slapd->bind_password_file(),
                                           "--socketmap-listen",
                                           "unix:" + socketmap,
                                           "--policy-listen",
                                           "unix:" + policy};
  dtrustd_args.insert(dtrustd_args.end(), options.dtrustd_args.begin(),
                      options.dtrustd_args.end());
  std::unique_ptr<testing::DtrustdProcess> dtrustd =
      Check(testing::DtrustdProcess::Start(dtrustd_args), "dtrustd");
  const std::vector<Published> published =
      Check(Populate(dtrustd->endpoint(), options.domains), "populate");
  const int domains = options.domains;
  const absl::Duration duration =
      options.quick ? absl::Milliseconds(200) : absl::Seconds(3);

  std::string report = absl::StrCat(
      "| service | connections | requests/s | p50 µs | p99 µs | p99.9 µs |\n"
      "|---|---|---|---|---|---|\n");
  for (int connections : {1, 8, 32}) {
    LoadSpec spec = SocketmapLoad(domains);
    spec.socket_path = socketmap;
    spec.connections = connections;
    spec.duration = duration;
    absl::StrAppend(&report, FormatLoad("socketmap (smtp_tls_policy_maps)",
                                        Check(RunLoad(spec), "socketmap")));
  }
  for (int connections : {1, 8, 32}) {
    LoadSpec spec = PolicyLoad(&published, connections);
    spec.socket_path = policy;
    spec.connections = connections;
    spec.duration = duration;
    absl::StrAppend(&report, FormatLoad("policy delegation (RCPT, secured)",
                                        Check(RunLoad(spec), "policy")));
  }

  // The same lookups by Postfix's own client, postmap, through the socketmap
  // and through an ldap: table on the same slapd.
  const std::string postmap = "/usr/sbin/postmap";
  if (access(postmap.c_str(), X_OK) != 0) {
    absl::StrAppend(&report, "\npostmap comparison skipped: no ", postmap,
                    "\n");
    std::filesystem::remove_all(dir);
    return report;
  }
  std::ofstream(dir + "/main.cf") << "compatibility_level = 3.7\n";
  const std::string ldap_cf = dir + "/send-secure.ldap.cf";
  std::ofstream(ldap_cf) << absl::StrCat(
      "server_host = ", slapd->uri(), "\nsearch_base = ou=domains,",
      slapd->suffix(),
      "\nquery_filter = (&(objectClass=dtrustSecureDomain)(cn=%s))\n"
      "result_attribute = dtrustSendSecurity\nversion = 3\nbind = yes\n"
      "bind_dn = ",
      slapd->bind_dn(), "\nbind_pw = ", slapd->bind_password(), "\n");
  const int lookups = options.quick ? 200 : 5000;
  {
    std::ofstream keys(dir + "/keys");
    for (int i = 0; i < lookups; ++i) keys << Domain(i % domains) << "\n";
  }
  const std::string socketmap_table =
      absl::StrCat("socketmap:unix:", socketmap, ":dtrust");
  const std::string ldap_table = "ldap:" + ldap_cf;
  auto command = [&](const std::string& table, const std::string& out) {
    return absl::StrCat(postmap, " -c ", dir, " -q - ", table, " < ", dir,
                        "/keys > ", out, " 2>", dir, "/postmap.err");
  };
  std::vector<double> socketmap_runs, ldap_runs;
  const int rounds = options.quick ? 1 : 5;
  for (int round = 0; round < rounds; ++round) {
    socketmap_runs.push_back(
        TimeShell(command(socketmap_table, dir + "/socketmap.out")));
    ldap_runs.push_back(TimeShell(command(ldap_table, dir + "/ldap.out")));
  }
  const double socketmap_s = Median(socketmap_runs);
  const double ldap_s = Median(ldap_runs);
  if (socketmap_s < 0 || ldap_s < 0) {
    absl::StrAppend(&report,
                    "\npostmap comparison failed (is postfix-ldap installed?)"
                    "; see ",
                    dir, "/postmap.err\n");
    return report;
  }
  absl::StrAppend(
      &report,
      absl::StrFormat(
          "\n| postmap -q - (%d keys, median of %d rounds) | total s | µs "
          "per lookup |\n|---|---|---|\n"
          "| socketmap: dtrustd (answer: all pins of the domain's servers) "
          "| %.3f | %.1f |\n"
          "| ldap: Postfix's own table (answer: the domain's send mode only) "
          "| %.3f | %.1f |\n\nratio ldap:/socketmap: = %.2f\n",
          lookups, rounds, socketmap_s, socketmap_s * 1e6 / lookups, ldap_s,
          ldap_s * 1e6 / lookups, ldap_s / socketmap_s));
  std::filesystem::remove_all(dir);  // Kept above, for the error file.
  return report;
}

}  // namespace
}  // namespace dtrust::bench

int main(int argc, char** argv) {
  dtrust::bench::Options options;
  CLI::App app(
      "Benchmarks dtrustd's socketmap and policy services, and Postfix's own\n"
      "ldap: table, against its own slapd and dtrustd.",
      "postfix_bench");
  app.add_flag("--quick", options.quick,
               "everything briefly (a smoke test, not a measurement)");
  dtrust::bench::AddPositiveOption(app, "--domains", options.domains, "N",
                                   "mail domains (default 100)");
  dtrust::AddRepeatableOption(app, "--dtrustd-arg", options.dtrustd_args,
                              "passed on to dtrustd (e.g.\n"
                              "--directory-sync=none); repeatable")
      ->type_name("ARG");
  dtrust::bench::ParseFlagsOrExit(app, argc, argv);
  if (options.quick) options.domains = std::min(options.domains, 10);
  std::fputs(dtrust::bench::Run(options).c_str(), stdout);
  return 0;
}
