// dtrustd as a class: the whole daemon, started from DtrustdOptions.
#ifndef DTRUST_SERVER_DTRUSTD_H_
#define DTRUST_SERVER_DTRUSTD_H_

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/dtrustd_options.h"
#include "server/ldap/ldap_connection.h"

namespace dtrust {

class Auditor;
class Authorizer;
class ClientGrants;
class DirectMonitor;
class DirectTrustService;
class Directory;
class DirectoryMonitor;
class EmbeddedDirectory;
class GrantCache;
class GrpcServing;
class HealthService;
class WatchService;
class InboundPolicy;
class LazyDirectory;
class LdapAuditStore;
class LdapDirectory;
class LdapGrantStore;
class LdapPoller;
class LdapSyncSource;
class MetricsExposer;
class Mirror;
class MirroredDirectory;
class OutboundPolicy;
class PolicyService;
class PrometheusMetrics;
class ReadOnlyDirectory;
class SocketmapService;
class StreamServer;
class TrustService;

// A running dtrustd, in the style of TensorFlow Serving's
// Server::BuildAndStart: the directory (the embedded slapd, or an external
// one), the mirror following it, the trust service with its authorization
// and audit, the gRPC listeners and the Postfix services.
//
// Signals are the caller's: main blocks SIGTERM, SIGINT and SIGHUP (and
// ignores SIGPIPE) before Start, so that no thread started here sees them.
// Thread-compatible: Stop() and the destructor from one thread.
class Dtrustd {
 public:
  // Sent by dtrustd to itself when a gRPC TCP listener stopped accepting
  // (after logging it and turning health NOT_SERVING): main should Stop()
  // and exit 1, so that the supervisor restarts dtrustd.
  static constexpr int kListenerStuckSignal = SIGUSR1;

  // Sets the process's minimum log level, starts everything `options` asks
  // for (with --metrics-listen, installs the process's Metrics, see
  // core/metrics.h: one such dtrustd per process) and logs "dtrustd ready:
  // serving on ..." once every listener serves and the directory data is
  // loaded (DirectoryMonitor serving). After options.startup_timeout without
  // it, logs a warning instead and returns all the same: answers fail closed
  // until the data is loaded.
  // On failure, whatever had started is stopped, and the error (with the
  // cause's code) says what could not start and why, e.g. FailedPrecondition
  // "cannot serve policy: unix:/run/p.sock: a server is already listening
  // there". Nothing is logged about the failure: that is the caller's.
  static absl::StatusOr<std::unique_ptr<Dtrustd>> Start(
      const DtrustdOptions& options);

  Dtrustd(const Dtrustd&) = delete;
  Dtrustd& operator=(const Dtrustd&) = delete;
  ~Dtrustd();  // Stop()

  // The gRPC addresses as a client would use them (with the bound ports).
  const std::vector<std::string>& grpc_addresses() const;

  // Applies what can change while running from `next` (the configuration
  // read again on SIGHUP): the log level. Logs one line saying what it
  // applied and, if any other setting differs from the one dtrustd started
  // with, one naming those settings, which need a restart.
  void Reload(const DtrustdOptions& next);

  // Stops the Postfix services, ends health watches, stops gRPC (calls get
  // 5 s to finish), stops following the directory, disconnects and stops
  // the embedded directory; logs "dtrustd stopped". Idempotent.
  void Stop();

 private:
  explicit Dtrustd(const DtrustdOptions& options);

  // The embedded directory, or the external one's connection options.
  absl::Status StartDirectory();
  // Connects to the directory for writes (and for reads without a mirror).
  absl::StatusOr<std::unique_ptr<LdapDirectory>> ConnectLdap() const;
  absl::Status ConnectDirectory();
  // The mirror and what feeds it (or, without a mirror, the monitor that
  // probes the directory).
  absl::Status StartMirror();
  void StartDirectMonitor();
  absl::Status StartMirrorSource();
  // The trust decision and the Postfix policies over `answers_`.
  void StartTrustService();
  absl::Status StartPostfixServices();
  // Serves /metrics on --metrics-listen, if given (the gauges read the
  // monitor and what answers: after StartMirror).
  absl::Status StartMetricsExposer();
  // Authorization, grants and audit in the directory, and the gRPC servers.
  absl::Status StartGrpc();

  const DtrustdOptions options_;
  const absl::Time started_;
  LdapOptions ldap_;
  bool running_ = false;  // Start() succeeded and Stop() has not run.
  LogLevel log_level_;    // In effect; Reload() changes it.

  // In the order of starting; stopped (destroyed) in reverse.
  // With --metrics-listen: what every part reports to (the process's
  // Metrics while this dtrustd exists), destroyed last.
  std::unique_ptr<PrometheusMetrics> metrics_;
  std::unique_ptr<EmbeddedDirectory> embedded_;
  // The directory itself, for writes and what the mirror does not hold:
  // connected at start without a mirror, lazily with one; none when a
  // foreign tree is mapped.
  std::unique_ptr<LdapDirectory> ldap_directory_;
  std::unique_ptr<LazyDirectory> lazy_directory_;
  Directory* directory_ = nullptr;
  std::unique_ptr<Mirror> mirror_;
  std::unique_ptr<MirroredDirectory> mirrored_;
  std::unique_ptr<LdapSyncSource> sync_source_;
  std::unique_ptr<LdapPoller> poller_;
  std::unique_ptr<ReadOnlyDirectory> read_only_;
  std::unique_ptr<DirectMonitor> direct_monitor_;
  Directory* answers_ = nullptr;  // What answers queries.
  DirectoryMonitor* monitor_ = nullptr;
  std::unique_ptr<TrustService> trust_service_;
  std::unique_ptr<InboundPolicy> inbound_policy_;
  std::unique_ptr<OutboundPolicy> outbound_policy_;
  std::unique_ptr<PolicyService> policy_service_;
  std::unique_ptr<SocketmapService> socketmap_service_;
  std::vector<std::unique_ptr<StreamServer>> postfix_servers_;
  std::unique_ptr<LdapGrantStore> grant_store_;
  std::unique_ptr<GrantCache> grant_cache_;
  std::unique_ptr<const Authorizer> authorizer_;
  std::unique_ptr<ClientGrants> client_grants_;
  std::unique_ptr<LdapAuditStore> audit_store_;
  std::unique_ptr<Auditor> auditor_;
  std::unique_ptr<WatchService> watch_service_;  // With a mirror only.
  std::unique_ptr<DirectTrustService> grpc_service_;
  std::unique_ptr<HealthService> health_service_;
  std::unique_ptr<GrpcServing> serving_;
  // Declared last, stopped first: its gauges read the parts above.
  std::unique_ptr<MetricsExposer> metrics_exposer_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_DTRUSTD_H_
