// dtrustd: the dtrust.v1.DirectTrust gRPC service.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/grpcpp.h"
#include "server/core/clock.h"
#include "server/core/inbound_policy.h"
#include "server/core/log.h"
#include "server/core/outbound_policy.h"
#include "server/core/trust_service.h"
#include "server/dtrustd_options.h"
#include "server/embedded/embedded_directory.h"
#include "server/grpc/direct_trust_service.h"
#include "server/ldap/ldap_directory.h"
#include "server/postfix/policy_service.h"
#include "server/postfix/socketmap_service.h"
#include "server/postfix/stream_server.h"

namespace dtrust {
namespace {

// Largest request accepted: a 64 KiB certificate plus generous framing.
constexpr int kMaxRequestBytes = 256 * 1024;
constexpr absl::Duration kShutdownGrace = absl::Seconds(5);

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

bool IsUnixAddress(const std::string& address) {
  return address.rfind("unix:", 0) == 0;
}

// The address a client would use, with the port gRPC actually bound.
std::string BoundAddress(const std::string& listen, int port) {
  if (IsUnixAddress(listen)) return listen;
  const size_t colon = listen.rfind(':');
  return absl::StrCat(listen.substr(0, colon), ":", port);
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
  SetMinLogLevel(options.log_level);

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
  }

  absl::StatusOr<std::unique_ptr<LdapDirectory>> directory =
      LdapDirectory::Connect(ldap);
  if (!directory.ok()) {
    LogError("cannot use the directory at ", absl::StrJoin(ldap.uris, " "),
             " under ", ldap.base_dn, ": ", directory.status().ToString());
    return 1;
  }
  LogInfo("directory: ", (*directory)->connected_uri(), ", base DN ",
          ldap.base_dn, embedded ? " (embedded)" : "");

  TrustService trust_service(directory->get(), Clock::Real(),
                             {.require_proof_for = options.require_proof_for});
  if (!options.require_proof_for.empty()) {
    LogInfo("publishing for servers in or serving ",
            absl::StrJoin(options.require_proof_for, ", "),
            " needs proof of possession");
  }
  InboundPolicy inbound_policy(directory->get(), &trust_service);
  OutboundPolicy outbound_policy(directory->get(), Clock::Real());
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

  DirectTrustService grpc_service(&trust_service);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &port);
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  builder.RegisterService(&grpc_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || (port == 0 && !IsUnixAddress(options.listen))) {
    LogError("cannot listen on ", options.listen,
             " (address in use, or not HOST:PORT / unix:PATH?)");
    return 1;
  }
  LogInfo("dtrustd ready: serving on ", BoundAddress(options.listen, port));

  const int signal = WaitForStopSignal(stop_signals);
  LogInfo("received ", strsignal(signal), ", shutting down");
  postfix_servers.clear();  // Stops them: Postfix gets no new answers.
  server->Shutdown(std::chrono::system_clock::now() +
                   absl::ToChronoSeconds(kShutdownGrace));
  server->Wait();
  directory->reset();
  if (embedded) embedded->Stop();
  LogInfo("dtrustd stopped");
  return 0;
}

}  // namespace
}  // namespace dtrust

int main(int argc, char** argv) {
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
