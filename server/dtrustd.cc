#include "server/dtrustd.h"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "grpcpp/grpcpp.h"
#include "server/auth/audit.h"
#include "server/auth/authorizer.h"
#include "server/auth/client_grants.h"
#include "server/base/fd_limit.h"
#include "server/base/status_macros.h"
#include "server/core/clock.h"
#include "server/core/inbound_policy.h"
#include "server/core/lazy_directory.h"
#include "server/core/log.h"
#include "server/core/metrics.h"
#include "server/core/outbound_policy.h"
#include "server/core/trust_service.h"
#include "server/embedded/embedded_directory.h"
#include "server/grpc/direct_trust_service.h"
#include "server/grpc/grpc_listeners.h"
#include "server/grpc/health_service.h"
#include "server/grpc/watch_service.h"
#include "server/ldap/direct_monitor.h"
#include "server/ldap/ldap_audit_store.h"
#include "server/ldap/ldap_directory.h"
#include "server/ldap/ldap_grant_store.h"
#include "server/ldap/ldap_poller.h"
#include "server/ldap/ldap_sync_source.h"
#include "server/metrics/prometheus_metrics.h"
#include "server/mirror/mirror.h"
#include "server/mirror/mirrored_directory.h"
#include "server/mirror/read_only_directory.h"
#include "server/postfix/policy_service.h"
#include "server/postfix/socketmap_service.h"
#include "server/postfix/stream_server.h"

namespace dtrust {
namespace {

// Largest request accepted: a 64 KiB certificate plus generous framing.
constexpr int kMaxRequestBytes = 256 * 1024;
constexpr absl::Duration kShutdownGrace = absl::Seconds(5);
// How often client grants are re-read from the directory: a grant or
// revocation through another dtrustd applies here within this.
constexpr absl::Duration kGrantRefresh = absl::Seconds(1);
// How often writes retry connecting to a directory that was down at start.
constexpr absl::Duration kDirectoryRetryInterval = absl::Seconds(2);

// An error with `cause`'s code: `what` could not be done, and why.
absl::Status CannotStart(absl::string_view what, const absl::Status& cause) {
  return absl::Status(cause.code(), absl::StrCat(what, ": ", cause.ToString()));
}

// Moves what `started` holds into `*part`; if it failed, CannotStart(what).
template <typename T>
absl::Status TakeStarted(absl::StatusOr<std::unique_ptr<T>> started,
                         absl::string_view what, std::unique_ptr<T>* part) {
  if (!started.ok()) return CannotStart(what, started.status());
  *part = *std::move(started);
  return absl::OkStatus();
}

// Creates the missing parent directory (mode 0755) of each unix socket
// address, e.g. /run/dtrust when not run by systemd; failures show when
// the socket is bound.
void MakeSocketDirectories(const std::vector<std::string>& addresses) {
  for (absl::string_view address : addresses) {
    if (!absl::ConsumePrefix(&address, "unix:")) continue;
    const size_t slash = address.rfind('/');
    if (slash == absl::string_view::npos || slash == 0) continue;
    const std::string parent(address.substr(0, slash));
    if (mkdir(parent.c_str(), 0755) == 0) LogInfo("created ", parent);
  }
}

// Starts one StreamServer per address for a Postfix service, appending them
// to `*servers`; an error naming the service if one cannot listen.
absl::Status StartPostfixServers(
    const std::vector<ListenAddress>& addresses,
    const StreamServerOptions& options, const StreamSessionFactory& factory,
    std::vector<std::unique_ptr<StreamServer>>* servers) {
  for (const ListenAddress& address : addresses) {
    absl::StatusOr<std::unique_ptr<StreamServer>> server =
        StreamServer::Start(address, options, factory);
    if (!server.ok()) {
      return absl::Status(server.status().code(),
                          absl::StrCat("cannot serve ", options.name, ": ",
                                       server.status().message()));
    }
    LogInfo(options.name, " service listening on ",
            (*server)->address().ToString());
    if (address.kind == ListenAddress::Kind::kInet &&
        address.host.rfind("127.", 0) != 0 && address.host != "::1") {
      LogWarning(options.name, " service on ", address.ToString(),
                 " is not on loopback: it has no authentication, anyone who "
                 "reaches it can query it");
    }
    servers->push_back(*std::move(server));
  }
  return absl::OkStatus();
}

// The options Dtrustd::Reload() applies.
constexpr absl::string_view kReloadable[] = {"--log-level", "--log-format"};

// "--log-level=debug, --log-format=text (the default)".
std::string DescribeReloadable(const DtrustdOptions& options) {
  std::vector<std::string> parts;
  for (const absl::string_view flag : kReloadable) {
    const auto given = options.given_values.find(std::string(flag));
    parts.push_back(
        given == options.given_values.end()
            ? absl::StrCat(flag, "=", flag == "--log-level" ? "info" : "text",
                           " (the default)")
            : absl::StrCat(flag, "=", absl::StrJoin(given->second, ",")));
  }
  return absl::StrJoin(parts, ", ");
}

// The options whose values differ between `then` and `now` and that
// Reload() does not apply.
std::vector<std::string> ChangedUnreloadable(const DtrustdOptions& then,
                                             const DtrustdOptions& now) {
  std::vector<std::string> changed;
  for (const auto* given : {&then.given_values, &now.given_values}) {
    for (const auto& [flag, values] : *given) {
      const auto in_now = now.given_values.find(flag);
      const auto in_then = then.given_values.find(flag);
      if (absl::c_linear_search(kReloadable, flag) ||
          absl::c_linear_search(changed, flag) ||
          (in_now != now.given_values.end() &&
           in_then != then.given_values.end() &&
           in_now->second == in_then->second)) {
        continue;
      }
      changed.push_back(flag);
    }
  }
  return changed;
}

// Descriptors dtrustd needs besides its Postfix connections: gRPC, the
// directory, slapd's pipes, files.
constexpr uint64_t kOtherDescriptors = 1024;

// Raises the soft RLIMIT_NOFILE to the hard limit, logs what it got, and
// warns when that is below what the Postfix connection limits need.
void RaiseDescriptorLimit(const DtrustdOptions& options) {
  absl::StatusOr<uint64_t> limit = RaiseOpenFileLimit();
  if (!limit.ok()) {
    LogWarning(limit.status().message());
    return;
  }
  const uint64_t sockets =
      options.policy_listen.size() + options.socketmap_listen.size();
  const uint64_t needed =
      sockets * static_cast<uint64_t>(options.postfix_limits.max_connections) +
      kOtherDescriptors;
  if (*limit < needed) {
    LogWarning("open file limit ", *limit, " is below the ", needed,
               " needed for --max-connections (",
               options.postfix_limits.max_connections, ") on each of ", sockets,
               " Postfix socket(s); connections beyond it are "
               "refused (raise LimitNOFILE or the hard nofile limit)");
  } else {
    LogInfo("open file limit ", *limit);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Dtrustd>> Dtrustd::Start(
    const DtrustdOptions& options) {
  std::unique_ptr<Dtrustd> dtrustd(new Dtrustd(options));
  SetMinLogLevel(options.log_level);
  SetLogStyle({.format = options.log_format, .journal = StderrIsJournal()});
  if (geteuid() == 0) {
    LogWarning(
        "running as root: run dtrustd as its own user (deploy/run-dtrustd.sh "
        "and deploy/systemd/dtrustd.service use the system user dtrust)");
  }
  RaiseDescriptorLimit(options);
  if (!options.metrics_listen.empty()) {
    dtrustd->metrics_ = std::make_unique<PrometheusMetrics>(DTRUST_VERSION);
    SetProcessMetrics(dtrustd->metrics_.get());
  }
  DTRUST_RETURN_IF_ERROR(dtrustd->StartDirectory());
  DTRUST_RETURN_IF_ERROR(dtrustd->ConnectDirectory());
  DTRUST_RETURN_IF_ERROR(dtrustd->StartMirror());
  dtrustd->StartTrustService();
  DTRUST_RETURN_IF_ERROR(dtrustd->StartMetricsExposer());
  DTRUST_RETURN_IF_ERROR(dtrustd->StartPostfixServices());
  DTRUST_RETURN_IF_ERROR(dtrustd->StartGrpc());
  dtrustd->running_ = true;
  return dtrustd;
}

Dtrustd::Dtrustd(const DtrustdOptions& options)
    : options_(options),
      started_(Clock::Real()->Now()),
      log_level_(options.log_level) {}

void Dtrustd::Reload(const DtrustdOptions& next) {
  const std::string applied = absl::StrCat(
      "SIGHUP: reloaded ",
      next.config_file.empty() ? "(no config file)" : next.config_file,
      "; applied ", DescribeReloadable(next));
  // Logged while the more verbose of the two levels is in effect, in the
  // new format.
  SetLogStyle({.format = next.log_format, .journal = StderrIsJournal()});
  if (next.log_level > log_level_) LogInfo(applied);
  SetMinLogLevel(next.log_level);
  if (next.log_level <= log_level_) LogInfo(applied);
  log_level_ = next.log_level;
  const std::vector<std::string> changed = ChangedUnreloadable(options_, next);
  if (!changed.empty()) {
    LogWarning("SIGHUP: changed settings not applied, they need a restart: ",
               absl::StrJoin(changed, ", "));
  }
}

Dtrustd::~Dtrustd() {
  Stop();
  // What still reports while the members go reaches the no-op.
  if (metrics_ != nullptr) SetProcessMetrics(nullptr);
}

const std::vector<std::string>& Dtrustd::grpc_addresses() const {
  return serving_->addresses();
}

void Dtrustd::Stop() {
  if (!running_) return;
  running_ = false;
  metrics_exposer_.reset();     // Its gauges read what stops below.
  postfix_servers_.clear();     // Stops them: Postfix gets no new answers.
  health_service_->Shutdown();  // Ends health watches: no grace period wait.
  if (watch_service_ != nullptr) watch_service_->Shutdown();  // And Watch's.
  serving_->Shutdown(kShutdownGrace);
  sync_source_.reset();
  poller_.reset();
  lazy_directory_.reset();
  ldap_directory_.reset();
  if (embedded_) embedded_->Stop();
  LogInfo("dtrustd stopped");
}

absl::Status Dtrustd::StartDirectory() {
  ldap_.base_dn = options_.base_dn;
  ldap_.timeout = options_.ldap_timeout;
  ldap_.connections = options_.ldap_connections;
  if (!options_.ldap_uris.empty()) {
    ldap_.uris = options_.ldap_uris;
    ldap_.bind_dn = options_.bind_dn;
    ldap_.bind_password = options_.bind_password;
    ldap_.sasl_external = options_.sasl_external;
    ldap_.tls_ca_file = options_.ldap_ca_file;
    ldap_.start_tls = options_.ldap_start_tls;
    return absl::OkStatus();
  }
  EmbeddedDirectoryOptions embedded_options;
  embedded_options.data_dir = options_.data_dir;
  embedded_options.base_dn = options_.base_dn;
  DTRUST_RETURN_IF_ERROR(
      TakeStarted(EmbeddedDirectory::Start(embedded_options),
                  absl::StrCat("cannot start the embedded directory in ",
                               options_.data_dir),
                  &embedded_));
  ldap_.uris = {embedded_->ldap_uri()};
  ldap_.sasl_external = true;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LdapDirectory>> Dtrustd::ConnectLdap() const {
  absl::StatusOr<std::unique_ptr<LdapDirectory>> connected =
      LdapDirectory::Connect(ldap_);
  if (connected.ok()) {
    LogInfo("directory: ", (*connected)->connected_uri(), ", base DN ",
            ldap_.base_dn, embedded_ != nullptr ? " (embedded)" : "");
  }
  return connected;
}

// Without a mirror nothing can be answered without the directory: it must
// answer at start. With a mirror dtrustd starts anyway (not serving until
// the directory answers) and connects when it can.
absl::Status Dtrustd::ConnectDirectory() {
  const auto cannot_use = [this](const absl::Status& cause) {
    return CannotStart(
        absl::StrCat("cannot use the directory at ",
                     absl::StrJoin(ldap_.uris, " "), " under ", ldap_.base_dn),
        cause);
  };
  if (options_.directory_sync == SyncMode::kNone) {
    absl::StatusOr<std::unique_ptr<LdapDirectory>> connected = ConnectLdap();
    if (!connected.ok()) return cannot_use(connected.status());
    ldap_directory_ = *std::move(connected);
    directory_ = ldap_directory_.get();
    return absl::OkStatus();
  }
  if (options_.directory_mapping.foreign.has_value()) return absl::OkStatus();
  lazy_directory_ = std::make_unique<LazyDirectory>(
      [this]() -> absl::StatusOr<std::unique_ptr<Directory>> {
        DTRUST_ASSIGN_OR_RETURN(std::unique_ptr<LdapDirectory> connected,
                                ConnectLdap());
        return connected;
      },
      Clock::Real(), kDirectoryRetryInterval);
  directory_ = lazy_directory_.get();
  const absl::Status first = lazy_directory_->Get().status();
  if (first.ok()) return absl::OkStatus();
  if (!absl::IsUnavailable(first)) return cannot_use(first);
  LogWarning(first.message(),
             "; starting anyway, not serving until the directory answers");
  return absl::OkStatus();
}

absl::Status Dtrustd::StartMirror() {
  if (options_.directory_sync == SyncMode::kNone) {
    StartDirectMonitor();
    return absl::OkStatus();
  }
  mirror_ = std::make_unique<Mirror>(
      MirrorOptions{.mode = options_.directory_sync,
                    .max_staleness = options_.max_staleness,
                    .change_log_capacity =
                        static_cast<size_t>(options_.watch_change_log)},
      Clock::Real());
  DTRUST_RETURN_IF_ERROR(StartMirrorSource());
  if (options_.directory_mapping.foreign.has_value()) {
    // No dtrust entries to write to: the tree is the directory's own.
    read_only_ = std::make_unique<ReadOnlyDirectory>(
        mirror_.get(),
        DescribeForeignMapping(*options_.directory_mapping.foreign));
    answers_ = read_only_.get();
  } else {
    mirrored_ = std::make_unique<MirroredDirectory>(directory_, mirror_.get());
    answers_ = mirrored_.get();
  }
  monitor_ = mirror_.get();
  LogInfo("answering from an in-memory mirror (",
          SyncModeName(options_.directory_sync), ", --max-staleness ",
          absl::FormatDuration(options_.max_staleness), ")");
  return absl::OkStatus();
}

void Dtrustd::StartDirectMonitor() {
  direct_monitor_ = std::make_unique<DirectMonitor>(
      LdapProbe(ldap_directory_.get()),
      [ldap = ldap_directory_.get()] { return ldap->connected_uri(); },
      started_, Clock::Real());
  monitor_ = direct_monitor_.get();
  answers_ = directory_;
  LogInfo("no mirror: every query searches the directory");
}

absl::Status Dtrustd::StartMirrorSource() {
  if (options_.directory_sync == SyncMode::kPoll) {
    return TakeStarted(
        LdapPoller::Start(ldap_, options_.directory_mapping,
                          options_.poll_interval, mirror_.get(), Clock::Real()),
        "cannot poll the directory", &poller_);
  }
  return TakeStarted(
      LdapSyncSource::Start({.ldap = ldap_}, mirror_.get(), Clock::Real()),
      "cannot follow the directory", &sync_source_);
}

void Dtrustd::StartTrustService() {
  trust_service_ = std::make_unique<TrustService>(
      answers_, Clock::Real(),
      TrustServiceOptions{.require_proof_for = options_.require_proof_for});
  if (!options_.require_proof_for.empty()) {
    LogInfo("publishing for servers in or serving ",
            absl::StrJoin(options_.require_proof_for, ", "),
            " needs proof of possession");
  }
  inbound_policy_ =
      std::make_unique<InboundPolicy>(answers_, trust_service_.get());
  outbound_policy_ = std::make_unique<OutboundPolicy>(answers_, Clock::Real());
  policy_service_ = std::make_unique<PolicyService>(inbound_policy_.get());
  socketmap_service_ = std::make_unique<SocketmapService>(
      outbound_policy_.get(), options_.socketmap_name);
}

absl::Status Dtrustd::StartPostfixServices() {
  const PostfixLimits& limits = options_.postfix_limits;
  const StreamServerOptions bounds{
      .request_timeout = limits.request_timeout,
      .max_connections = limits.max_connections,
      .max_connections_per_client = limits.max_connections_per_client,
      .decision_threads = limits.decision_threads};
  StreamServerOptions policy = bounds;
  policy.name = "policy";
  policy.idle_timeout = limits.policy_idle_timeout;
  StreamServerOptions socketmap = bounds;
  socketmap.name = "socketmap";
  socketmap.idle_timeout = limits.socketmap_idle_timeout;
  DTRUST_RETURN_IF_ERROR(StartPostfixServers(
      options_.policy_listen, policy,
      [policy = policy_service_.get()](absl::string_view peer) {
        return policy->NewSession(peer);
      },
      &postfix_servers_));
  return StartPostfixServers(
      options_.socketmap_listen, socketmap,
      [socketmap = socketmap_service_.get()](absl::string_view peer) {
        return socketmap->NewSession(peer);
      },
      &postfix_servers_);
}

absl::Status Dtrustd::StartGrpc() {
  grant_store_ = std::make_unique<LdapGrantStore>(ldap_);
  grant_cache_ = std::make_unique<GrantCache>(
      grant_store_.get(), Clock::Real(), kGrantRefresh, options_.max_staleness);
  authorizer_ = std::make_unique<const Authorizer>(
      AuthorizerOptions{.anonymous_role = options_.anonymous_role,
                        .admin_uids = {0, getuid()},
                        .admin_certificates = options_.admin_clients},
      grant_cache_.get(), UnixAccounts::System());
  client_grants_ = std::make_unique<ClientGrants>(
      grant_store_.get(), grant_cache_.get(), Clock::Real());
  audit_store_ = std::make_unique<LdapAuditStore>(ldap_);
  auditor_ = std::make_unique<Auditor>(audit_store_.get(), Clock::Real());
  if (mirror_ != nullptr) {
    watch_service_ = std::make_unique<WatchService>(
        mirror_.get(),
        WatchOptions{.max_watchers = options_.watch_max_watchers,
                     .max_message_bytes =
                         static_cast<size_t>(options_.watch_max_message_bytes),
                     .send_deadline = options_.watch_send_deadline});
  }
  grpc_service_ = std::make_unique<DirectTrustService>(
      trust_service_.get(), monitor_, authorizer_.get(), client_grants_.get(),
      auditor_.get(), watch_service_.get());
  health_service_ = std::make_unique<HealthService>(
      monitor_, authorizer_.get(),
      HealthOptions{.max_watches = options_.health_max_watches});
  MakeSocketDirectories(options_.listen);
  GrpcLimits limits;
  limits.max_streams_per_connection = options_.grpc_max_streams;
  limits.max_threads = options_.grpc_max_threads;
  limits.max_memory_bytes = int64_t{options_.grpc_max_memory_mib} << 20;
  absl::StatusOr<std::unique_ptr<GrpcServing>> serving = GrpcServing::Start(
      {.addresses = options_.listen,
       .tls_cert_pem = options_.tls_cert_pem,
       .tls_key_pem = options_.tls_key_pem,
       .max_receive_bytes = kMaxRequestBytes,
       .limits = limits,
       .on_listener_stuck =
           [this](const std::string& address) {
             LogError("gRPC listener ", address,
                      " stopped accepting connections "
                      "(descriptors ran out?): not ready, "
                      "exiting so that a supervisor restarts "
                      "dtrustd");
             health_service_->Shutdown();
             kill(getpid(), kListenerStuckSignal);
           }},
      {grpc_service_.get(), health_service_.get()});
  if (!serving.ok()) return serving.status();
  serving_ = *std::move(serving);
  // Health says NOT_SERVING meanwhile; answers are deferrals.
  if (!AwaitServing(*monitor_, options_.startup_timeout)) {
    LogWarning("dtrustd not ready after --startup-timeout ",
               absl::FormatDuration(options_.startup_timeout), ": ",
               monitor_->Status().last_error,
               "; serving anyway, answers are temporary failures (fail "
               "closed) until the directory is loaded");
    return absl::OkStatus();
  }
  LogInfo("dtrustd ready: serving on ",
          absl::StrJoin(serving_->addresses(), ", "),
          options_.tls_cert_pem.empty() ? "" : " (TCP with TLS)");
  return absl::OkStatus();
}

absl::Status Dtrustd::StartMetricsExposer() {
  if (metrics_ == nullptr) return absl::OkStatus();
  DTRUST_RETURN_IF_ERROR(TakeStarted(
      MetricsExposer::Start(
          options_.metrics_listen,
          {metrics_->collectable(), std::make_shared<DirectoryGauges>(
                                        monitor_, answers_, Clock::Real())}),
      "cannot serve metrics", &metrics_exposer_));
  LogInfo("serving metrics on ", options_.metrics_listen, " (port ",
          metrics_exposer_->port(), "), path /metrics");
  return absl::OkStatus();
}

}  // namespace dtrust
