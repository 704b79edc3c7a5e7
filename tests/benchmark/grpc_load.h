// Closed-loop gRPC load on dtrustd's DirectTrust service, for grpc_bench:
// a fixed number of calls kept outstanding on a target's channels, each
// completion starting the next call. Uses the completion-queue API, driven by
// a few client threads (no thread per call), to keep the client's CPU per
// call low on a machine whose cores it shares with the server.
#ifndef DTRUST_TESTS_BENCHMARK_GRPC_LOAD_H_
#define DTRUST_TESTS_BENCHMARK_GRPC_LOAD_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tests/benchmark/verify_set.h"

namespace dtrust::bench {

enum class Rpc {
  kVerify,  // Verify by certificate SHA-256 (and the expected domain).
  kPing,    // The service's empty RPC: the transport's own cost.
};
// "verify", "ping"; nullopt for anything else.
std::optional<Rpc> RpcFromName(absl::string_view name);
absl::string_view RpcName(Rpc rpc);

struct RoundOptions {
  int concurrency = 1;  // Calls outstanding at any time.
  int threads = 1;      // Client threads, each with its own completion queue.
  absl::Duration warmup = absl::Milliseconds(500);  // Run but not measured.
  absl::Duration duration = absl::Seconds(2);       // Measured.
  // Verify: the share of calls asking about an unpublished digest (expecting
  // NOT_PUBLISHED); the others ask about published ones (expecting TRUSTED).
  double unpublished_fraction = 0;
};

// What the calls that completed within the measured window did.
struct RoundResult {
  int64_t calls = 0;          // Succeeded with the expected answer.
  int64_t errors = 0;         // Failed, or answered another verdict.
  std::string first_error{};  // The first of the errors, described.
  double calls_per_second = 0;
  double p50_us = 0;  // Latency quantiles of the successful calls.
  double p99_us = 0;
  double p999_us = 0;
  // CPU time per successful call: of this process (all its threads), and of
  // the target's server processes together (0 without any).
  double client_cpu_us = 0;
  double server_cpu_us = 0;
};

// One endpoint and RPC under load, its channels kept connected across
// rounds. Thread-compatible: one Run at a time.
class LoadTarget {
 public:
  struct Spec {
    std::string label{};
    std::string endpoint{};  // gRPC target: "unix:/path", "127.0.0.1:7750".
    Rpc rpc = Rpc::kVerify;
    // Processes whose CPU time is charged to the calls (dtrustd, slapd).
    std::vector<pid_t> server_pids{};
  };

  // Opens `channels` channels to spec.endpoint, each its own connection,
  // and waits up to 10 s for every one to connect: Unavailable naming the
  // endpoint otherwise. `set` must outlive the target; kVerify needs it
  // (InvalidArgument without).
  static absl::StatusOr<std::unique_ptr<LoadTarget>> Connect(
      Spec spec, int channels, const VerifySet* set);

  const Spec& spec() const { return spec_; }

  // Runs one round: warmup, then the measured window, then waits for the
  // calls still outstanding. Errors of calls are counted in the result; an
  // error status only when a server process's CPU time cannot be read (it
  // exited).
  absl::StatusOr<RoundResult> Run(const RoundOptions& options);

 private:
  LoadTarget(Spec spec, const VerifySet* set)
      : spec_(std::move(spec)), set_(set) {}

  Spec spec_;
  const VerifySet* set_;
  std::vector<std::unique_ptr<v1::DirectTrust::Stub>> stubs_;
};

}  // namespace dtrust::bench

#endif  // DTRUST_TESTS_BENCHMARK_GRPC_LOAD_H_
