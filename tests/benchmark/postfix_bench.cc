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

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/base/command_line.h"
#include "server/core/certificate.h"
#include "server/postfix/socketmap_protocol.h"
#include "tests/benchmark/bench_flags.h"
#include "tests/benchmark/load_client.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

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

std::string Domain(int i) { return absl::StrCat("org-", i, ".example"); }

struct Published {
  std::string cert_fingerprint;  // Postfix form: upper-case colon hex.
  std::string spki_fingerprint;
};

// Publishes one server and certificate per domain and lists every domain as
// send- and receive-secure.
std::vector<Published> Populate(const std::string& endpoint, int domains) {
  auto stub = v1::DirectTrust::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  std::vector<Published> published;
  for (int i = 0; i < domains; ++i) {
    const testing::TestCert cert =
        testing::MakeTestCert({.common_name = "mx1." + Domain(i)});
    v1::PublishRequest publish;
    publish.set_server("mx1." + Domain(i));
    publish.add_domains(Domain(i));
    publish.set_certificate_der(cert.der);
    v1::PublishResponse published_response;
    grpc::ClientContext publish_context;
    if (!stub->Publish(&publish_context, publish, &published_response).ok()) {
      Die("publish failed");
    }
    v1::SetDomainPolicyRequest policy;
    policy.set_domain(Domain(i));
    policy.set_send(v1::SECURE_MODE_ENFORCE);
    policy.set_receive(v1::SECURE_MODE_ENFORCE);
    v1::DomainPolicy policy_response;
    grpc::ClientContext policy_context;
    if (!stub->SetDomainPolicy(&policy_context, policy, &policy_response)
             .ok()) {
      Die("SetDomainPolicy failed");
    }
    const Certificate parsed = *Certificate::FromDer(cert.der);
    published.push_back(
        {parsed.sha256().ToColonHex(), parsed.spki_sha256().ToColonHex()});
  }
  return published;
}

// Length of the first complete netstring in `buffer`, or 0.
size_t NetstringLength(const std::string& buffer) {
  const size_t colon = buffer.find(':');
  if (colon == std::string::npos) return 0;
  size_t length = 0;
  if (!absl::SimpleAtoi(buffer.substr(0, colon), &length)) Die("bad netstring");
  const size_t total = colon + 1 + length + 1;
  return buffer.size() >= total ? total : 0;
}

size_t PolicyReplyLength(const std::string& buffer) {
  const size_t end = buffer.find("\n\n");
  return end == std::string::npos ? 0 : end + 2;
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
      Populate(dtrustd->endpoint(), options.domains);
  const int domains = options.domains;
  const absl::Duration duration =
      options.quick ? absl::Milliseconds(200) : absl::Seconds(3);

  std::string report = absl::StrCat(
      "| service | connections | requests/s | p50 µs | p99 µs | p99.9 µs |\n"
      "|---|---|---|---|---|---|\n");
  for (int connections : {1, 8, 32}) {
    LoadSpec spec;
    spec.socket_path = socketmap;
    spec.connections = connections;
    spec.duration = duration;
    spec.request = [domains](int64_t i) {
      return FormatNetstring(absl::StrCat("dtrust ", Domain(i % domains)));
    };
    spec.reply_length = NetstringLength;
    spec.reply_ok = [](const std::string& reply) {
      return reply.find(":OK fingerprint match=") != std::string::npos;
    };
    absl::StrAppend(&report, FormatLoad("socketmap (smtp_tls_policy_maps)",
                                        Check(RunLoad(spec), "socketmap")));
  }
  for (int connections : {1, 8, 32}) {
    LoadSpec spec;
    spec.socket_path = policy;
    spec.connections = connections;
    spec.duration = duration;
    spec.request = [&published, domains, connections](int64_t i) {
      const int d = static_cast<int>(i % domains);
      return absl::StrCat(
          "request=smtpd_access_policy\nprotocol_state=RCPT\n"
          "protocol_name=ESMTP\nclient_address=127.0.0.1\n"
          "client_name=mx1.",
          Domain(d), "\nhelo_name=mx1.", Domain(d), "\nsender=alice@",
          Domain(d), "\nrecipient=bob@example.net\ninstance=", connections, ".",
          i, "\nencryption_protocol=TLSv1.3\nccert_fingerprint=",
          published[d].cert_fingerprint,
          "\nccert_pubkey_fingerprint=", published[d].spki_fingerprint, "\n\n");
    };
    spec.reply_length = PolicyReplyLength;
    spec.reply_ok = [](const std::string& reply) {
      return reply.rfind("action=PREPEND X-DirectTrust: domain-secured", 0) ==
             0;
    };
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
