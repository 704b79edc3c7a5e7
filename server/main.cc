// dtrustd: the dtrust.v1.DirectTrust gRPC service.
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "server/auth/authorizer.h"
#include "server/auth/client_grants.h"
#include "server/core/clock.h"
#include "server/core/inbound_policy.h"
#include "server/core/lazy_directory.h"
#include "server/core/log.h"
#include "server/core/outbound_policy.h"
#include "server/core/status_macros.h"
#include "server/core/trust_service.h"
#include "server/dtrustd_options.h"
#include "server/embedded/embedded_directory.h"
#include "server/grpc/direct_trust_service.h"
#include "server/grpc/grpc_listeners.h"
#include "server/grpc/health_service.h"
#include "server/ldap/direct_monitor.h"
#include "server/ldap/ldap_audit_store.h"
#include "server/ldap/ldap_directory.h"
#include "server/ldap/ldap_grant_store.h"
#include "server/ldap/ldap_poller.h"
#include "server/ldap/ldap_sync_source.h"
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

// Blocks SIGTERM/SIGINT in every thread created from now on, so that only
// WaitForStopSignal() sees them.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return signals;
}

int WaitForStopSignal(const sigset_t& signals) {
  int signal = 0;
  sigwait(&signals, &signal);
  return signal;
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
// to `*servers`; false (logged) if one cannot listen.
bool StartPostfixServers(const std::vector<ListenAddress>& addresses,
                         const StreamServerOptions& options,
                         const StreamSessionFactory& factory,
                         std::vector<std::unique_ptr<StreamServer>>* servers) {
  for (const ListenAddress& address : addresses) {
    absl::StatusOr<std::unique_ptr<StreamServer>> server =
        StreamServer::Start(address, options, factory);
    if (!server.ok()) {
      LogError("cannot serve ", options.name, ": ", server.status().message());
      return false;
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
  return true;
}

int Run(const DtrustdOptions& options) {
  const sigset_t stop_signals = BlockStopSignals();
  const absl::Time started = Clock::Real()->Now();
  SetMinLogLevel(options.log_level);
  if (geteuid() == 0) {
    LogWarning(
        "running as root: run dtrustd as its own user (deploy/run-dtrustd.sh "
        "and deploy/systemd/dtrustd.service use the system user dtrust)");
  }

  LdapOptions ldap;
  ldap.base_dn = options.base_dn;
  ldap.timeout = options.ldap_timeout;
  ldap.connections = options.ldap_connections;
  std::unique_ptr<EmbeddedDirectory> embedded;
  if (options.ldap_uris.empty()) {
    EmbeddedDirectoryOptions embedded_options;
    embedded_options.data_dir = options.data_dir;
    embedded_options.base_dn = options.base_dn;
    absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> started =
        EmbeddedDirectory::Start(embedded_options);
    if (!started.ok()) {
      LogError("cannot start the embedded directory in ", options.data_dir,
               ": ", started.status().ToString());
      return 1;
    }
    embedded = *std::move(started);
    ldap.uris = {embedded->ldap_uri()};
    ldap.sasl_external = true;
  } else {
    ldap.uris = options.ldap_uris;
    ldap.bind_dn = options.bind_dn;
    ldap.bind_password = options.bind_password;
    ldap.sasl_external = options.sasl_external;
    ldap.tls_ca_file = options.ldap_ca_file;
    ldap.start_tls = options.ldap_start_tls;
  }

  // The directory itself, for writes and what the mirror does not hold.
  // Without a mirror nothing can be answered without it: it must answer at
  // start. With a mirror dtrustd starts anyway (not serving until the
  // directory answers) and connects when it can.
  std::unique_ptr<LdapDirectory> ldap_directory;
  std::unique_ptr<LazyDirectory> lazy_directory;
  Directory* directory = nullptr;
  const auto connect = [&ldap, embedded = embedded != nullptr]()
      -> absl::StatusOr<std::unique_ptr<LdapDirectory>> {
    absl::StatusOr<std::unique_ptr<LdapDirectory>> connected =
        LdapDirectory::Connect(ldap);
    if (connected.ok()) {
      LogInfo("directory: ", (*connected)->connected_uri(), ", base DN ",
              ldap.base_dn, embedded ? " (embedded)" : "");
    }
    return connected;
  };
  const bool foreign = options.directory_mapping.foreign.has_value();
  if (options.directory_sync == SyncMode::kNone) {
    absl::StatusOr<std::unique_ptr<LdapDirectory>> connected = connect();
    if (!connected.ok()) {
      LogError("cannot use the directory at ", absl::StrJoin(ldap.uris, " "),
               " under ", ldap.base_dn, ": ", connected.status().ToString());
      return 1;
    }
    ldap_directory = *std::move(connected);
    directory = ldap_directory.get();
  } else if (!foreign) {
    lazy_directory = std::make_unique<LazyDirectory>(
        [connect]() -> absl::StatusOr<std::unique_ptr<Directory>> {
          DTRUST_ASSIGN_OR_RETURN(std::unique_ptr<LdapDirectory> connected,
                                  connect());
          return connected;
        },
        Clock::Real(), kDirectoryRetryInterval);
    directory = lazy_directory.get();
    if (const absl::Status first = lazy_directory->Get().status();
        !first.ok()) {
      if (!absl::IsUnavailable(first)) {
        LogError("cannot use the directory at ", absl::StrJoin(ldap.uris, " "),
                 " under ", ldap.base_dn, ": ", first.ToString());
        return 1;
      }
      LogWarning(first.message(),
                 "; starting anyway, not serving until the directory answers");
    }
  }

  // What answers queries: the mirror (default) or the directory itself.
  Directory* answers = directory;
  std::unique_ptr<Mirror> mirror;
  std::unique_ptr<MirroredDirectory> mirrored;
  std::unique_ptr<LdapSyncSource> sync_source;
  std::unique_ptr<LdapPoller> poller;
  std::unique_ptr<ReadOnlyDirectory> read_only;
  std::unique_ptr<DirectMonitor> direct_monitor;
  DirectoryMonitor* monitor = nullptr;
  if (options.directory_sync == SyncMode::kNone) {
    direct_monitor = std::make_unique<DirectMonitor>(
        LdapProbe(ldap_directory.get()),
        [ldap = ldap_directory.get()] { return ldap->connected_uri(); },
        started, Clock::Real());
    monitor = direct_monitor.get();
    LogInfo("no mirror: every query searches the directory");
  } else {
    mirror = std::make_unique<Mirror>(
        MirrorOptions{.mode = options.directory_sync,
                      .max_staleness = options.max_staleness},
        Clock::Real());
    if (options.directory_sync == SyncMode::kPoll) {
      absl::StatusOr<std::unique_ptr<LdapPoller>> poller_started =
          LdapPoller::Start(ldap, options.directory_mapping,
                            options.poll_interval, mirror.get(), Clock::Real());
      if (!poller_started.ok()) {
        LogError("cannot poll the directory: ",
                 poller_started.status().ToString());
        return 1;
      }
      poller = *std::move(poller_started);
    } else {
      absl::StatusOr<std::unique_ptr<LdapSyncSource>> source =
          LdapSyncSource::Start({.ldap = ldap}, mirror.get(), Clock::Real());
      if (!source.ok()) {
        LogError("cannot follow the directory: ", source.status().ToString());
        return 1;
      }
      sync_source = *std::move(source);
    }
    if (foreign) {
      // No dtrust entries to write to: the tree is the directory's own.
      read_only = std::make_unique<ReadOnlyDirectory>(
          mirror.get(),
          DescribeForeignMapping(*options.directory_mapping.foreign));
      answers = read_only.get();
    } else {
      mirrored = std::make_unique<MirroredDirectory>(directory, mirror.get());
      answers = mirrored.get();
    }
    monitor = mirror.get();
    LogInfo("answering from an in-memory mirror (",
            SyncModeName(options.directory_sync), ", --max-staleness ",
            absl::FormatDuration(options.max_staleness), ")");
  }

  TrustService trust_service(answers, Clock::Real(),
                             {.require_proof_for = options.require_proof_for});
  if (!options.require_proof_for.empty()) {
    LogInfo("publishing for servers in or serving ",
            absl::StrJoin(options.require_proof_for, ", "),
            " needs proof of possession");
  }
  InboundPolicy inbound_policy(answers, &trust_service);
  OutboundPolicy outbound_policy(answers, Clock::Real());
  PolicyService policy_service(&inbound_policy);
  SocketmapService socketmap_service(&outbound_policy, options.socketmap_name);
  // Declared after the services they use, so destroyed (stopped) first.
  std::vector<std::unique_ptr<StreamServer>> postfix_servers;
  if (!StartPostfixServers(
          options.policy_listen,
          {.name = "policy", .idle_timeout = kPolicyIdleTimeout},
          [&](absl::string_view peer) {
            return policy_service.NewSession(peer);
          },
          &postfix_servers) ||
      !StartPostfixServers(
          options.socketmap_listen,
          {.name = "socketmap", .idle_timeout = kSocketmapIdleTimeout},
          [&](absl::string_view peer) {
            return socketmap_service.NewSession(peer);
          },
          &postfix_servers)) {
    return 1;
  }

  LdapGrantStore grant_store(ldap);
  GrantCache grant_cache(&grant_store, Clock::Real(), kGrantRefresh,
                         options.max_staleness);
  const Authorizer authorizer({.anonymous_role = options.anonymous_role,
                               .admin_uids = {0, getuid()},
                               .admin_certificates = options.admin_clients},
                              &grant_cache, UnixAccounts::System());
  ClientGrants client_grants(&grant_store, &grant_cache, Clock::Real());
  LdapAuditStore audit_store(ldap);
  Auditor auditor(&audit_store, Clock::Real());
  DirectTrustService grpc_service(&trust_service, monitor, &authorizer,
                                  &client_grants, &auditor);
  HealthService health_service(monitor, &authorizer);
  MakeSocketDirectories(options.listen);
  absl::StatusOr<std::unique_ptr<GrpcServing>> serving =
      GrpcServing::Start({.addresses = options.listen,
                          .tls_cert_pem = options.tls_cert_pem,
                          .tls_key_pem = options.tls_key_pem,
                          .max_receive_bytes = kMaxRequestBytes},
                         {&grpc_service, &health_service});
  if (!serving.ok()) {
    LogError(serving.status().message());
    return 1;
  }
  LogInfo("dtrustd ready: serving on ",
          absl::StrJoin((*serving)->addresses(), ", "),
          options.tls_cert_pem.empty() ? "" : " (TCP with TLS)");

  const int signal = WaitForStopSignal(stop_signals);
  LogInfo("received ", strsignal(signal), ", shutting down");
  postfix_servers.clear();    // Stops them: Postfix gets no new answers.
  health_service.Shutdown();  // Ends health watches: no grace period wait.
  (*serving)->Shutdown(kShutdownGrace);
  sync_source.reset();
  poller.reset();
  lazy_directory.reset();
  ldap_directory.reset();
  if (embedded) embedded->Stop();
  LogInfo("dtrustd stopped");
  return 0;
}

}  // namespace
}  // namespace dtrust

int main(int argc, char** argv) {
  // Debian's abseil is built with mutex deadlock detection on (a debug
  // feature: a graph-cycle check on every lock, measured at 4-6 us of
  // dtrustd CPU per gRPC call, as gRPC 1.51 locks absl::Mutex); NDEBUG builds
  // of abseil have it off. Before any thread starts.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::StatusOr<dtrust::DtrustdOptions> options =
      dtrust::ParseDtrustdOptions(std::vector<std::string>(argv, argv + argc));
  if (!options.ok()) {
    std::fprintf(stderr, "dtrustd: %s\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(dtrust::DtrustdUsage().c_str(), stdout);
    return 0;
  }
  return dtrust::Run(*options);
}
