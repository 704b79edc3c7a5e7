// How soon a dtrustd sees changes made in its directory by someone else:
// certificates published and unpublished, a domain put on and taken off the
// send-secure list, each written straight into LDAP (never through the
// dtrustd measured, whose own writes are applied locally at once) while
// this program asks the measured dtrustd in a tight loop.
//
//   revocation_bench --endpoint E --ldap-uri U --base-dn DN --bind-dn DN
//                    --bind-password-file F [--trials 100] [--timeout 10s]
//
// A trial publishes a fresh certificate for the server
// revocation.bench.example (an LDAP add), polls Verify until TRUSTED, then
// deletes the pin entry and polls until NOT_PUBLISHED; the latencies run from
// the LDAP operation's acknowledgement to the first answer showing it. A
// domain trial does the same with the entry cn=revocation.bench.example in
// ou=domains and ListDomainPolicies. The entries are removed at the end.
// Prints a Markdown table and one line of JSON; exit status 1 on any failure
// (an answer not changing within --timeout included), 2 on bad usage.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/base/command_line.h"
#include "server/base/files.h"
#include "server/base/status_macros.h"
#include "server/core/certificate.h"
#include "server/ldap/ldap_connection.h"
#include "server/ldap/ldap_records.h"
#include "tests/benchmark/bench_flags.h"
#include "tests/benchmark/bench_stats.h"
#include "tests/testing/test_certs.h"

namespace dtrust::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kServer[] = "revocation.bench.example";
constexpr char kDomain[] = "bench.example";  // The mail domain kServer serves.
// The domain put on and taken off the send-secure list.
constexpr char kListedDomain[] = "revocation-list.bench.example";

[[noreturn]] void Usage(const std::string& problem) {
  UsageError("revocation_bench", problem);
}

struct Options {
  std::string endpoint;
  LdapOptions ldap;
  int trials = 100;
  absl::Duration timeout = absl::Seconds(10);
};

std::string ReadPassword(const std::string& path) {
  absl::StatusOr<std::string> password = ReadPasswordFile(path);
  if (!password.ok()) {
    Usage(absl::StrCat("--bind-password-file ", path, ": ",
                       password.status().message()));
  }
  return *std::move(password);
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  std::string password_file;
  std::string timeout;
  CLI::App app(
      "How soon a dtrustd sees changes written straight into its directory.",
      "revocation_bench");
  app.add_option("--endpoint", options.endpoint, "the dtrustd measured")
      ->type_name("E")
      ->required();
  AddRepeatableOption(app, "--ldap-uri", options.ldap.uris,
                      "its directory; repeatable")
      ->type_name("U")
      ->required();
  app.add_option("--base-dn", options.ldap.base_dn, "")
      ->type_name("DN")
      ->required();
  app.add_option("--bind-dn", options.ldap.bind_dn, "")
      ->type_name("DN")
      ->required();
  app.add_option("--bind-password-file", password_file, "")->type_name("F");
  AddPositiveOption(app, "--trials", options.trials, "N", "(default 100)");
  app.add_option("--timeout", timeout,
                 "longest wait for an answer to change (default 10s)")
      ->type_name("D");
  ParseFlagsOrExit(app, argc, argv);
  if (!password_file.empty()) {
    options.ldap.bind_password = ReadPassword(password_file);
  }
  if (!timeout.empty() && (!absl::ParseDuration(timeout, &options.timeout) ||
                           options.timeout <= absl::ZeroDuration())) {
    Usage(absl::StrCat("--timeout: \"", timeout, "\" is not a duration"));
  }
  return options;
}

// Asks `probe` until it returns true; the time from `since` to that answer.
// DeadlineExceeded after `timeout`; probe errors are returned as they are.
absl::StatusOr<double> MillisecondsUntil(
    Clock::time_point since, absl::Duration timeout,
    const std::function<absl::StatusOr<bool>()>& probe,
    absl::string_view what) {
  const Clock::time_point deadline = since + absl::ToChronoNanoseconds(timeout);
  for (;;) {
    DTRUST_ASSIGN_OR_RETURN(const bool seen, probe());
    const Clock::time_point now = Clock::now();
    if (seen) {
      return std::chrono::duration<double, std::milli>(now - since).count();
    }
    if (now > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          what, ": not seen after ", absl::FormatDuration(timeout)));
    }
  }
}

absl::Status RpcError(absl::string_view rpc, const grpc::Status& status) {
  return absl::UnavailableError(absl::StrCat(rpc, ": gRPC status ",
                                             status.error_code(), ": ",
                                             status.error_message()));
}

class Bench {
 public:
  Bench(const Options& options, std::unique_ptr<LdapConnection> ldap)
      : options_(options),
        ldap_(std::move(ldap)),
        stub_(v1::DirectTrust::NewStub(grpc::CreateChannel(
            options.endpoint, grpc::InsecureChannelCredentials()))),
        server_dn_(
            absl::StrCat("cn=", kServer, ",ou=servers,", options.ldap.base_dn)),
        domain_dn_(absl::StrCat("cn=", kListedDomain, ",ou=domains,",
                                options.ldap.base_dn)) {}

  // Latencies in ms, per kind of change.
  std::vector<double> published, unpublished, domain_on, domain_off;

  absl::Status Run() {
    absl::Status status =
        ldap_->Add(server_dn_, {{"objectClass", {std::string(kServerClass)}},
                                {"cn", {kServer}},
                                {std::string(kMailDomain), {kDomain}}});
    if (!status.ok() && !absl::IsAlreadyExists(status)) return status;
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> pause_us(0, 5000);
    for (int trial = 0; trial < options_.trials && status.ok(); ++trial) {
      // A random pause, so changes do not fall in step with anything
      // periodic in dtrustd.
      absl::SleepFor(absl::Microseconds(pause_us(random)));
      status = PinTrial();
    }
    for (int trial = 0; trial < options_.trials && status.ok(); ++trial) {
      absl::SleepFor(absl::Microseconds(pause_us(random)));
      status = DomainTrial(trial == 0);
    }
    absl::Status cleanup = ldap_->Delete(domain_dn_);
    if (absl::IsNotFound(cleanup)) cleanup = absl::OkStatus();
    if (cleanup.ok()) cleanup = ldap_->Delete(server_dn_);
    return status.ok() ? cleanup : status;
  }

 private:
  absl::StatusOr<v1::Verdict> Verify(const std::string& sha256) {
    v1::VerifyRequest request;
    request.set_sha256(sha256);
    request.set_expected_domain(kDomain);
    v1::VerifyResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    const grpc::Status status = stub_->Verify(&context, request, &response);
    if (!status.ok()) return RpcError("Verify", status);
    return response.verdict();
  }

  absl::StatusOr<bool> SendSecure() {
    v1::ListDomainPoliciesRequest request;
    request.set_domain(kListedDomain);
    v1::ListDomainPoliciesResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    const grpc::Status status =
        stub_->ListDomainPolicies(&context, request, &response);
    if (!status.ok()) return RpcError("ListDomainPolicies", status);
    for (const v1::DomainPolicy& policy : response.policies()) {
      if (policy.domain() == kListedDomain &&
          policy.send() == v1::SECURE_MODE_ENFORCE) {
        return true;
      }
    }
    return false;
  }

  absl::Status PinTrial() {
    const testing::TestCert test_cert =
        testing::MakeTestCert({.common_name = kServer});
    DTRUST_ASSIGN_OR_RETURN(const Certificate cert,
                            Certificate::FromDer(test_cert.der));
    const std::string sha256(cert.sha256().bytes());
    const std::string pin_dn =
        absl::StrCat(kCertSha256, "=", cert.sha256().ToHex(), ",", server_dn_);
    DTRUST_RETURN_IF_ERROR(ldap_->Add(
        pin_dn, {{"objectClass", {std::string(kPinClass)}},
                 {std::string(kCertSha256), {cert.sha256().ToHex()}},
                 {std::string(kSpkiSha256), {cert.spki_sha256().ToHex()}},
                 {std::string(kPinKind), {"certificate"}},
                 {std::string(kPinProvenance), {"asserted"}},
                 {std::string(kCertificate), {cert.der()}}}));
    DTRUST_ASSIGN_OR_RETURN(
        const double publish_ms,
        MillisecondsUntil(
            Clock::now(), options_.timeout,
            [&]() -> absl::StatusOr<bool> {
              DTRUST_ASSIGN_OR_RETURN(const v1::Verdict verdict,
                                      Verify(sha256));
              return verdict == v1::TRUSTED;
            },
            absl::StrCat("published ", cert.sha256().ToHex(), " TRUSTED")));
    published.push_back(publish_ms);
    DTRUST_RETURN_IF_ERROR(ldap_->Delete(pin_dn));
    DTRUST_ASSIGN_OR_RETURN(
        const double unpublish_ms,
        MillisecondsUntil(
            Clock::now(), options_.timeout,
            [&]() -> absl::StatusOr<bool> {
              DTRUST_ASSIGN_OR_RETURN(const v1::Verdict verdict,
                                      Verify(sha256));
              return verdict == v1::NOT_PUBLISHED;
            },
            absl::StrCat("unpublished ", cert.sha256().ToHex(),
                         " NOT_PUBLISHED")));
    unpublished.push_back(unpublish_ms);
    return absl::OkStatus();
  }

  absl::Status DomainTrial(bool first) {
    const LdapAttribute send = {std::string(kSendSecurity), {"enforce"}};
    if (first) {
      absl::Status added =
          ldap_->Add(domain_dn_, {{"objectClass", {std::string(kDomainClass)}},
                                  {"cn", {kListedDomain}},
                                  send});
      if (absl::IsAlreadyExists(added)) {
        added =
            ldap_->Modify(domain_dn_, {{LdapModification::Op::kReplace, send}});
      }
      DTRUST_RETURN_IF_ERROR(added);
    } else {
      DTRUST_RETURN_IF_ERROR(
          ldap_->Modify(domain_dn_, {{LdapModification::Op::kAdd, send}}));
    }
    DTRUST_ASSIGN_OR_RETURN(
        const double on_ms,
        MillisecondsUntil(
            Clock::now(), options_.timeout, [&] { return SendSecure(); },
            "domain put on the send-secure list"));
    domain_on.push_back(on_ms);
    DTRUST_RETURN_IF_ERROR(ldap_->Modify(
        domain_dn_,
        {{LdapModification::Op::kDelete, {std::string(kSendSecurity), {}}}}));
    DTRUST_ASSIGN_OR_RETURN(const double off_ms,
                            MillisecondsUntil(
                                Clock::now(), options_.timeout,
                                [&]() -> absl::StatusOr<bool> {
                                  DTRUST_ASSIGN_OR_RETURN(const bool on,
                                                          SendSecure());
                                  return !on;
                                },
                                "domain taken off the send-secure list"));
    domain_off.push_back(off_ms);
    return absl::OkStatus();
  }

  const Options& options_;
  std::unique_ptr<LdapConnection> ldap_;
  std::unique_ptr<v1::DirectTrust::Stub> stub_;
  const std::string server_dn_;
  const std::string domain_dn_;
};

struct Row {
  const char* key;
  const char* what;
  std::vector<double>* ms;
};

int Main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  absl::StatusOr<std::unique_ptr<LdapConnection>> ldap =
      LdapConnection::Open(options.ldap);
  if (!ldap.ok()) {
    std::fprintf(stderr, "revocation_bench: %s\n",
                 std::string(ldap.status().message()).c_str());
    return 1;
  }
  Bench bench(options, *std::move(ldap));
  const absl::Status status = bench.Run();
  if (!status.ok()) {
    std::fprintf(stderr, "revocation_bench: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  const Row rows[] = {
      {"unpublish", "unpublished → first NOT_PUBLISHED", &bench.unpublished},
      {"publish", "published → first TRUSTED", &bench.published},
      {"domain_off", "send-secure list: domain off → seen", &bench.domain_off},
      {"domain_on", "send-secure list: domain on → seen", &bench.domain_on},
  };
  std::printf(
      "| change in LDAP (ack → answer from %s) | trials | p50 ms | p99 ms | "
      "max ms |\n|---|---|---|---|---|\n",
      options.endpoint.c_str());
  std::string json = "{";
  for (const Row& row : rows) {
    std::vector<double>& ms = *row.ms;
    const double p50 = Quantile(ms, 0.5), p99 = Quantile(ms, 0.99),
                 max = Quantile(ms, 1);
    std::printf("| %s | %zu | %.3f | %.3f | %.3f |\n", row.what, ms.size(), p50,
                p99, max);
    absl::StrAppend(
        &json, json.size() > 1 ? "," : "", "\"", row.key,
        absl::StrFormat(R"(":{"trials":%d,"p50_ms":%.4f,"p99_ms":%.4f,)"
                        R"("max_ms":%.4f})",
                        ms.size(), p50, p99, max));
  }
  std::printf("\n%s}\n", json.c_str());
  return 0;
}

}  // namespace
}  // namespace dtrust::bench

int main(int argc, char** argv) { return dtrust::bench::Main(argc, argv); }
