// dtrustd's command line.
#ifndef DTRUST_SERVER_DTRUSTD_OPTIONS_H_
#define DTRUST_SERVER_DTRUSTD_OPTIONS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/auth/identity.h"
#include "server/core/digest.h"
#include "server/core/directory_status.h"
#include "server/core/log.h"
#include "server/ldap/directory_mapping.h"
#include "server/postfix/listen_address.h"
#include "server/postfix/policy_service.h"
#include "server/postfix/socketmap_service.h"

namespace dtrust {

inline constexpr char kDefaultUnixListenAddress[] =
    "unix:/run/dtrust/dtrustd.sock";
inline constexpr char kDefaultListenAddress[] = "127.0.0.1:7750";
inline constexpr char kDefaultDataDir[] = "/var/lib/dtrust";
inline constexpr char kDefaultEmbeddedBaseDn[] = "o=dtrust";
// Read when it exists (a fresh install has none); --config names another.
inline constexpr char kDefaultConfigFile[] = "/etc/dtrust/dtrustd.conf";

// The bounds of each policy and socketmap socket (StreamServerOptions).
struct PostfixLimits {
  absl::Duration request_timeout = absl::Seconds(10);
  absl::Duration policy_idle_timeout = kPolicyIdleTimeout;
  absl::Duration socketmap_idle_timeout = kSocketmapIdleTimeout;
  int max_connections = 20'000;
  int max_connections_per_client = 1'000;
  int decision_threads = 4;
};

// gRPC threads kept for calls other than Health/Watch (pollers included).
inline constexpr int kGrpcThreadsBesideWatches = 8;

struct DtrustdOptions {
  // gRPC listeners, HOST:PORT or unix:PATH; each is served.
  std::vector<std::string> listen = {kDefaultUnixListenAddress,
                                     kDefaultListenAddress};
  // TLS for every TCP listener (PEM contents of --tls-cert/--tls-key); both
  // or neither. Without them TCP listeners must be on loopback.
  std::string tls_cert_pem;
  std::string tls_key_pem;
  // Client certificates that are admin without a grant (--admin-client).
  std::vector<Sha256Digest> admin_clients;
  // The role of callers without an identity or grant (--anonymous).
  Role anonymous_role = Role::kReader;
  // gRPC bounds (GrpcLimits, HealthOptions). health_max_watches +
  // kGrpcThreadsBesideWatches <= grpc_max_threads.
  int grpc_max_streams = 32;
  int grpc_max_threads = 64;
  int grpc_max_memory_mib = 32;
  int health_max_watches = 16;
  // Watch (WatchOptions, MirrorOptions::change_log_capacity);
  // health_max_watches + watch_max_watchers + kGrpcThreadsBesideWatches <=
  // grpc_max_threads.
  int watch_max_watchers = 16;
  int watch_max_message_bytes = 1 << 20;
  absl::Duration watch_send_deadline = absl::Seconds(5);
  int watch_change_log = 10000;
  // Embedded directory (used when `ldap_uris` is empty).
  std::string data_dir = kDefaultDataDir;
  // External directory.
  std::vector<std::string> ldap_uris;
  std::string base_dn;  // Defaults to kDefaultEmbeddedBaseDn when embedded.
  std::string bind_dn;
  std::string bind_password;  // Read from --bind-password-file.
  bool sasl_external = false;
  // TLS to the external directory: the CA certificates for ldaps:// and
  // StartTLS (--ldap-ca, a readable PEM file holding at least one
  // certificate; empty: the system store), and StartTLS on every ldap://
  // URI (--ldap-starttls).
  std::string ldap_ca_file;
  bool ldap_start_tls = false;
  absl::Duration ldap_timeout = absl::Seconds(5);
  int ldap_connections = 4;
  // Where answers come from: the in-memory mirror following the directory
  // (refreshAndPersist, or polling), or a directory search per query.
  SyncMode directory_sync = SyncMode::kRefreshAndPersist;
  // How long the mirror keeps answering after losing every directory.
  absl::Duration max_staleness = absl::Minutes(5);
  // How long Start() waits for the mirror's first load (or, without a
  // mirror, the directory's first answer) before it says ready anyway.
  absl::Duration startup_timeout = absl::Seconds(10);
  // How often the poll mode reloads; less than max_staleness.
  absl::Duration poll_interval = absl::Seconds(60);
  // How the poll mode reads the directory: ids, change detection, and the
  // dtrust schema or a foreign mapping (then dtrustd refuses writes).
  DirectoryMapping directory_mapping{};
  // Postfix protocol services (none by default).
  std::vector<ListenAddress> policy_listen;     // Policy delegation.
  std::vector<ListenAddress> socketmap_listen;  // smtp_tls_policy_maps.
  std::string socketmap_name;  // Empty: any socketmap name is accepted.
  PostfixLimits postfix_limits;
  // Mail domains (normalized, unique, sorted) whose servers may only be
  // published with proof of possession (--require-proof-for).
  std::vector<std::string> require_proof_for;
  // Where to serve Prometheus metrics (HOST:PORT, on loopback unless
  // --metrics-allow-remote); empty: not served.
  std::string metrics_listen;
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kText;
  bool help = false;  // --help or -h: print DtrustdUsage() and exit 0.
  // --check-config: the configuration is valid; exit 0 without starting.
  bool check_config = false;
  // The config file read; empty when the default one is absent.
  std::string config_file;
  // Every option given in the file or on the command line ("--listen"),
  // with its values as written: what a reload compares to tell which
  // settings changed.
  std::map<std::string, std::vector<std::string>> given_values;
};

// Parses argv (argv[0] is skipped) on CLI11: `--flag value` and
// `--flag=value`; a repeatable flag given again adds a value, any other
// flag given again takes the last. Then reads the config file (--config, or
// kDefaultConfigFile if it exists): `name = value` lines, one per long
// option, repeatable ones on several lines or as a list `[a, b]`; a flag on
// the command line replaces the file's value (or list). The file must be
// owned by root or the effective user and not writable by others.
// InvalidArgument naming the flag on bad usage, prefixed "FILE:LINE: " when
// the bad value or unknown name comes from the file; reads
// --bind-password-file, --tls-cert, --tls-key, --ldap-ca and certificate
// files named by --admin-client (InvalidArgument if unreadable).
absl::StatusOr<DtrustdOptions> ParseDtrustdOptions(
    const std::vector<std::string>& args);

// The --help text, generated from the flag declarations.
std::string DtrustdUsage();

}  // namespace dtrust

#endif  // DTRUST_SERVER_DTRUSTD_OPTIONS_H_
