// What dtrustd reports for monitoring, without knowing how it is exported:
// the adapters (gRPC, Postfix), the listeners, the directory clients and the
// log rate limiter call the process's Metrics; server/metrics implements it
// for Prometheus. Until dtrustd installs one (--metrics-listen), every call
// goes to a no-op.
#ifndef DTRUST_SERVER_CORE_METRICS_H_
#define DTRUST_SERVER_CORE_METRICS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace dtrust {

// Where a request came in.
enum class Protocol {
  kGrpc,
  kPolicy,     // Postfix policy delegation.
  kSocketmap,  // Postfix smtp_tls_policy_maps.
};

// "grpc", "policy", "socketmap".
absl::string_view ProtocolName(Protocol protocol);

// What happened to a connection on a listener.
enum class ConnectionEvent {
  kOpened,   // Accepted and served.
  kRefused,  // Accepted and closed at once (a limit, descriptors).
  kClosed,   // A served connection ended.
};

// The events dtrustd counts. Every method has a no-op default, so that a
// test or an implementation overrides only what it needs. Label-like
// arguments must come from a small fixed set (verdict names, method names,
// status code names, listener names), never from client input.
// Implementations must be thread-safe; callers never hold them across calls.
class Metrics {
 public:
  virtual ~Metrics() = default;

  // One answer: `verdict` is its lower-case name, e.g. "trusted",
  // "not_published" (gRPC Verify), "dunno", "prepend", "reject", "defer"
  // (policy), "found", "not_found", "temp_fail", "perm_fail" (socketmap).
  virtual void CountVerdict(Protocol /*protocol*/,
                            absl::string_view /*verdict*/) {}
  // One request of `rpc` (a gRPC method name, "policy", "socketmap") took
  // `latency`, answered or not.
  virtual void ObserveRequest(Protocol /*protocol*/, absl::string_view /*rpc*/,
                              absl::Duration /*latency*/) {}
  // One request failed; `cause` is the lower-case status code name, e.g.
  // "unavailable" (directory down), "invalid_argument" (bad request).
  virtual void CountError(Protocol /*protocol*/, absl::string_view /*cause*/) {}
  // A connection event on the listener `listener` ("policy", "socketmap",
  // "grpc_unix").
  virtual void CountConnection(absl::string_view /*listener*/,
                               ConnectionEvent /*event*/) {}
  // One directory operation ("connect", "search", "add", "modify",
  // "delete", "sync") ended with `outcome`.
  virtual void CountLdapOperation(absl::string_view /*operation*/,
                                  const absl::Status& /*outcome*/) {}
  // A mirror source (re)connected to the directory.
  virtual void CountMirrorConnect() {}
  // The mirror completed a full load of the directory at `when`.
  virtual void MarkFullReload(absl::Time /*when*/) {}
  // A log line was left out by a LogRateLimiter.
  virtual void CountSuppressedLogLine() {}
};

// The process's Metrics: the one installed with SetProcessMetrics, or a
// no-op. Thread-safe.
Metrics& ProcessMetrics();

// Installs `metrics` (not owned; it must stay valid until replaced) for the
// whole process; nullptr restores the no-op. Thread-safe; calls under way
// may still reach the previous one, so replace it only when nothing runs
// that reports (dtrustd: before starting, after stopping).
void SetProcessMetrics(Metrics* metrics);

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_METRICS_H_
