#include "server/dtrustd_options.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <tuple>

#include "CLI/CLI.hpp"
#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/base/command_line.h"
#include "server/base/files.h"
#include "server/base/status_macros.h"
#include "server/core/certificate.h"
#include "server/core/dns_name.h"

namespace dtrust {
namespace {

// Largest certificate or key file read.
constexpr size_t kMaxPemFileBytes = 1024 * 1024;
// Largest config file read.
constexpr size_t kMaxConfigFileBytes = 1024 * 1024;

// dtrustd's flags as given, before they are checked and combined into
// DtrustdOptions: one field per flag, bound by DeclareFlags.
struct DtrustdFlags {
  std::vector<std::string> listen;
  std::string tls_cert;
  std::string tls_key;
  std::vector<std::string> admin_clients;
  std::string anonymous;
  std::string grpc_max_streams;
  std::string grpc_max_threads;
  std::string grpc_max_memory;
  std::string health_max_watches;
  std::string watch_max_watchers;
  std::string watch_max_message_bytes;
  std::string watch_send_deadline;
  std::string watch_change_log;
  std::string data_dir;
  std::vector<std::string> ldap_uris;
  std::string base_dn;
  std::string bind_dn;
  std::string bind_password_file;
  bool sasl_external = false;
  std::string ldap_ca;
  bool ldap_start_tls = false;
  std::string ldap_timeout;
  std::string ldap_connections;
  std::string directory_sync;
  std::string max_staleness;
  std::string poll_interval;
  std::string startup_timeout;
  std::string poll_change_attr;
  std::string poll_full_every;
  std::string map_id_attr;
  std::string map_server_filter;
  std::string map_server_name_attr;
  std::string map_certificate_attr;
  std::string map_domain_attr;
  std::vector<std::string> map_domains;
  std::string map_domain_list_dn;
  std::string map_send_secure_attr;
  std::string map_receive_secure_attr;
  std::vector<std::string> policy_listen;
  std::vector<std::string> socketmap_listen;
  std::string socketmap_name;
  std::string request_timeout;
  std::string policy_idle_timeout;
  std::string socketmap_idle_timeout;
  std::string max_connections;
  std::string max_connections_per_client;
  std::string decision_threads;
  std::vector<std::string> require_proof_for;
  std::string metrics_listen;
  bool metrics_allow_remote = false;
  std::string log_level;
  std::string log_format;
  bool check_config = false;
  bool help = false;
  // The names of the flags given (e.g. "--data-dir"), in declaration order.
  std::vector<std::string> given;

  bool Given(absl::string_view flag) const {
    return absl::c_linear_search(given, flag);
  }
};

// Declares a flag taking one value; given again, the last value counts.
void AddValueFlag(CLI::App& app, const std::string& name, std::string& value,
                  const std::string& value_name, const std::string& help) {
  app.add_option(name, value, help)->type_name(value_name);
}

// Declares a repeatable flag: each occurrence adds its one value.
void AddRepeatableFlag(CLI::App& app, const std::string& name,
                       std::vector<std::string>& values,
                       const std::string& value_name, const std::string& help) {
  AddRepeatableOption(app, name, values, help)->type_name(value_name);
}

void DeclareAccessFlags(CLI::App& app, DtrustdFlags& flags) {
  app.option_defaults()->group("gRPC service and its callers");
  AddRepeatableFlag(app, "--listen", flags.listen, "ADDR",
                    absl::StrCat("gRPC address, HOST:PORT or unix:PATH;\n"
                                 "repeatable, every one is served (default\n",
                                 kDefaultUnixListenAddress, " and ",
                                 kDefaultListenAddress, ")"));
  AddValueFlag(app, "--tls-cert", flags.tls_cert, "FILE",
               "TLS on every TCP --listen with this\n"
               "certificate (PEM); clients must present a\n"
               "certificate, identified by its SHA-256.\n"
               "Without TLS, TCP listeners must be on\n"
               "loopback (callers there are anonymous)");
  AddValueFlag(app, "--tls-key", flags.tls_key, "FILE",
               "the private key (PEM) of --tls-cert");
  AddRepeatableFlag(app, "--admin-client", flags.admin_clients,
                    "CERT-FILE|sha256:HEX",
                    "a client certificate that is admin without\n"
                    "a grant (bootstrap); repeatable. Local root\n"
                    "and dtrustd's own user are admin over the\n"
                    "unix socket");
  AddValueFlag(app, "--anonymous", flags.anonymous, "reader|none",
               "what callers without an identity (or\n"
               "without a grant) may do (default reader:\n"
               "Verify, Ping, GetStatus, health)");
  AddValueFlag(app, "--grpc-max-streams", flags.grpc_max_streams, "N",
               "concurrent calls per gRPC connection; more\n"
               "wait at the client (default 32)");
  AddValueFlag(app, "--grpc-max-threads", flags.grpc_max_threads, "N",
               "threads handling gRPC calls; a call when all\n"
               "are busy fails at once with\n"
               "RESOURCE_EXHAUSTED (default 64)");
  AddValueFlag(app, "--grpc-max-memory", flags.grpc_max_memory, "MIB",
               "memory for gRPC connections and request\n"
               "data being received (default 32)");
  AddValueFlag(app, "--health-max-watches", flags.health_max_watches, "N",
               "Health/Watch streams at once, each holding\n"
               "a thread; at most --grpc-max-threads\n"
               "minus 8 (default 16)");
}

void DeclareDirectoryFlags(CLI::App& app, DtrustdFlags& flags) {
  app.option_defaults()->group(
      "Embedded directory (the default, when no --ldap-uri is given)");
  AddValueFlag(app, "--data-dir", flags.data_dir, "DIR",
               absl::StrCat("run a private slapd with its data in DIR,\n"
                            "reachable only through DIR/ldapi (default\n",
                            kDefaultDataDir, ")"));
  app.option_defaults()->group(
      "External directory (a slapd with deploy/ldap/dtrust.schema loaded)");
  AddRepeatableFlag(app, "--ldap-uri", flags.ldap_uris, "URI",
                    "ldap://, ldaps:// or ldapi:// URI;\n"
                    "repeat for failover, tried in order");
  AddValueFlag(app, "--base-dn", flags.base_dn, "DN",
               absl::StrCat("entries live under DN (default ",
                            kDefaultEmbeddedBaseDn, ")"));
  AddValueFlag(app, "--bind-dn", flags.bind_dn, "DN", "simple bind as DN ...");
  AddValueFlag(app, "--bind-password-file", flags.bind_password_file, "F",
               "... with the password in F");
  app.add_flag("--sasl-external", flags.sasl_external,
               "SASL EXTERNAL bind (ldapi:// peer\ncredentials)");
  AddValueFlag(app, "--ldap-ca", flags.ldap_ca, "FILE",
               "the CA certificates (PEM) that the\n"
               "directory's certificate must chain to, for\n"
               "ldaps:// and StartTLS (default: the system\n"
               "store); its host name is always checked");
  app.add_flag("--ldap-starttls", flags.ldap_start_tls,
               "ldap:// URIs must switch to TLS (StartTLS)\n"
               "before the bind; a server that cannot is\n"
               "an error, never a plain connection");
  AddValueFlag(app, "--ldap-timeout", flags.ldap_timeout, "DURATION",
               "connect and per-operation timeout\n(default 5s)");
  AddValueFlag(app, "--ldap-connections", flags.ldap_connections, "N",
               "connection pool size (default 4)");
}

void DeclareWatchFlags(CLI::App& app, DtrustdFlags& flags) {
  app.option_defaults()->group(
      "Watch: the mirror pushed to in-process copies (needs a mirror)");
  AddValueFlag(app, "--watch-max-watchers", flags.watch_max_watchers, "N",
               "Watch streams at once, each holding a\n"
               "thread (default 16)");
  AddValueFlag(app, "--watch-max-message-bytes", flags.watch_max_message_bytes,
               "BYTES",
               "size of a Watch snapshot chunk, 4096 to\n"
               "4000000 (default 1048576)");
  AddValueFlag(app, "--watch-send-deadline", flags.watch_send_deadline,
               "DURATION",
               "drop a Watch stream whose client takes no\n"
               "message for this long (default 5s)");
  AddValueFlag(app, "--watch-change-log", flags.watch_change_log, "N",
               "changes kept for watchers to resume from;\n"
               "one further behind gets a new snapshot\n"
               "(default 10000)");
}

void DeclareMirrorFlags(CLI::App& app, DtrustdFlags& flags) {
  app.option_defaults()->group(
      "Answers (Verify, policy, socketmap): an in-memory mirror of the "
      "directory");
  AddValueFlag(app, "--directory-sync", flags.directory_sync, "MODE",
               "refresh-and-persist (default): follow the\n"
               "directory live (RFC 4533; slapd needs the\n"
               "syncprov overlay); poll: reload every\n"
               "--poll-interval (directories without\n"
               "content sync); none: no mirror, one\n"
               "directory search per query");
  AddValueFlag(app, "--max-staleness", flags.max_staleness, "DURATION",
               "keep answering from the mirror this long\n"
               "after losing every directory, then fail\n"
               "temporarily (default 5m)");
  AddValueFlag(app, "--startup-timeout", flags.startup_timeout, "DURATION",
               "at start, wait this long for the mirror's\n"
               "first load (none: the directory's first\n"
               "answer) before saying ready; answers are\n"
               "deferrals until then (default 10s)");
  AddValueFlag(app, "--poll-interval", flags.poll_interval, "DURATION",
               "reload interval for --directory-sync=poll\n"
               "(default 60s; less than --max-staleness)");
  AddValueFlag(app, "--poll-change-attr", flags.poll_change_attr, "ATTR",
               "how a poll finds the entries changed since\n"
               "the last one: modifyTimestamp (default;\n"
               "OpenLDAP, 389-DS) or uSNChanged (Active\n"
               "Directory)");
  AddValueFlag(app, "--poll-full-every", flags.poll_full_every, "N",
               "read everything every Nth poll, not just\n"
               "the changes (default 10; also after each\n"
               "reconnect)");
  AddValueFlag(app, "--map-id-attr", flags.map_id_attr, "ATTR",
               "the attribute identifying an entry for\n"
               "polling (default entryUUID; objectGUID for\n"
               "Active Directory, nsUniqueId for 389-DS)");
}

void DeclareMappingFlags(CLI::App& app, DtrustdFlags& flags) {
  app.option_defaults()->group(
      "Polling a tree without the dtrust schema (Active Directory, 389-DS, "
      "FreeIPA)");
  AddValueFlag(app, "--map-server-filter", flags.map_server_filter, "FILTER",
               "transport servers are the entries under\n"
               "--base-dn matching FILTER, e.g.\n"
               "(objectClass=computer). Needs --ldap-uri\n"
               "and --directory-sync=poll. dtrustd computes\n"
               "the digests itself and only reads: publish,\n"
               "unpublish and domain changes are refused\n"
               "(use the directory's own tools)");
  AddValueFlag(app, "--map-server-name-attr", flags.map_server_name_attr,
               "ATTR", "a server's DNS name (default dNSHostName)");
  AddValueFlag(app, "--map-certificate-attr", flags.map_certificate_attr,
               "ATTR",
               "its certificates; every value is a\n"
               "certificate pin (default\n"
               "userCertificate;binary)");
  AddValueFlag(app, "--map-domain-attr", flags.map_domain_attr, "ATTR",
               "the mail domains a server serves, or:");
  AddRepeatableFlag(app, "--map-domain", flags.map_domains, "DOMAIN",
                    "every server serves DOMAIN; repeatable\n"
                    "(neither: servers serve no mail domain)");
  AddValueFlag(app, "--map-domain-list-dn", flags.map_domain_list_dn, "DN",
               "the entry holding the Domain Security lists\n"
               "(like Exchange's msExchTLS*DomainSecureList)");
  AddValueFlag(app, "--map-send-secure-attr", flags.map_send_secure_attr,
               "ATTR",
               "its attribute listing the domains mail to\n"
               "which must be domain-secured (enforce)");
  AddValueFlag(app, "--map-receive-secure-attr", flags.map_receive_secure_attr,
               "ATTR",
               "its attribute listing the domains mail from\n"
               "which must be domain-secured (enforce)");
}

// The bounds of each policy and socketmap socket.
void DeclarePostfixLimitFlags(CLI::App& app, DtrustdFlags& flags) {
  AddValueFlag(app, "--request-timeout", flags.request_timeout, "DURATION",
               "a request must arrive whole within this of\n"
               "its first byte, or the connection is\n"
               "closed (default 10s)");
  AddValueFlag(app, "--policy-idle-timeout", flags.policy_idle_timeout,
               "DURATION",
               "close a policy connection idle this long\n"
               "(default 330s: Postfix closes its own after\n"
               "smtpd_policy_service_max_idle, 300s)");
  AddValueFlag(app, "--socketmap-idle-timeout", flags.socketmap_idle_timeout,
               "DURATION",
               "close a socketmap connection idle this long\n"
               "(default 60s; Postfix closes its own after\n"
               "10s)");
  AddValueFlag(app, "--max-connections", flags.max_connections, "N",
               "connections at once per policy or socketmap\n"
               "socket; more are closed (default 20000)");
  AddValueFlag(app, "--max-connections-per-client",
               flags.max_connections_per_client, "N",
               "connections at once per socket from one IP\n"
               "address or, on a unix socket, one uid\n"
               "(default 1000)");
  AddValueFlag(app, "--decision-threads", flags.decision_threads, "N",
               "threads serving each policy or socketmap\n"
               "socket: read, decide, reply. A slow\n"
               "decision holds one; the others serve on\n"
               "(default 4)");
}

void DeclarePostfixFlags(CLI::App& app, DtrustdFlags& flags) {
  app.option_defaults()->group(
      "Postfix Domain Security services (unauthenticated, read-only)");
  AddRepeatableFlag(app, "--policy-listen", flags.policy_listen, "ADDR",
                    "serve policy delegation for Postfix's\n"
                    "check_policy_service on ADDR,\n"
                    "inet:HOST:PORT or unix:PATH; repeatable.\n"
                    "Keep both services on loopback or a unix\n"
                    "socket (unix sockets are mode 0660)");
  AddRepeatableFlag(app, "--socketmap-listen", flags.socketmap_listen, "ADDR",
                    "serve the socketmap for Postfix's\n"
                    "smtp_tls_policy_maps on ADDR, as above");
  AddValueFlag(app, "--socketmap-name", flags.socketmap_name, "NAME",
               "answer only socketmap:...:NAME lookups\n"
               "(default: any name)");
  DeclarePostfixLimitFlags(app, flags);
}

void DeclareMetricsFlags(CLI::App& app, DtrustdFlags& flags) {
  app.option_defaults()->group("Monitoring");
  AddValueFlag(app, "--metrics-listen", flags.metrics_listen, "HOST:PORT",
               "serve Prometheus metrics over HTTP at\n"
               "http://HOST:PORT/metrics (default: off).\n"
               "Loopback only, unless\n"
               "--metrics-allow-remote");
  app.add_flag("--metrics-allow-remote", flags.metrics_allow_remote,
               "let --metrics-listen be a non-loopback\n"
               "address: anyone who reaches it reads the\n"
               "metrics (no TLS, no authentication)");
}

void DeclareOtherFlags(CLI::App& app, DtrustdFlags& flags) {
  app.option_defaults()->group("Publishing");
  AddRepeatableFlag(app, "--require-proof-for", flags.require_proof_for,
                    "DOMAIN",
                    "publish certificates for servers in or\n"
                    "serving mail domain DOMAIN (or below it)\n"
                    "only with proof of possession of the\n"
                    "private key (dtrust publish --key);\n"
                    "repeatable. Others' servers stay\n"
                    "publishable without (\"asserted\")");
  app.option_defaults()->group("Configuration");
  app.set_config("--config", kDefaultConfigFile,
                 "read options from FILE, one `name = value`\n"
                 "line per long option (e.g. `log-level =\n"
                 "debug`; a repeatable one on several lines\n"
                 "or as a list [a, b]; quote values with\n"
                 "spaces or #). Read only if it exists,\n"
                 "unless given. A flag on the command line\n"
                 "overrides the file; a repeatable one\n"
                 "replaces the file's whole list. Owned by\n"
                 "root or dtrustd's user, not writable by\n"
                 "others. SIGHUP re-reads it")
      ->type_name("FILE");
  app.add_flag("--check-config", flags.check_config,
               "check the file and flags (and the files\n"
               "they name), exit 0 if valid, 2 if not;\n"
               "start nothing")
      ->configurable(false);
  app.option_defaults()->group("Other");
  AddValueFlag(app, "--log-level", flags.log_level, "LEVEL",
               "debug, info, warning or error (default\n"
               "info; SIGHUP applies a changed one)");
  AddValueFlag(app, "--log-format", flags.log_format, "FORMAT",
               "text (default) or json, one object per\n"
               "line; under systemd either starts with the\n"
               "syslog priority and has no time (SIGHUP\n"
               "applies a changed one)");
  app.set_help_flag("-h,--help", "this text")
      ->group("Other")
      ->configurable(false);
}

// CLI11's `name = value` format, except that every line naming an option
// adds its values, wherever it is in the file (CLI11 merges only adjacent
// lines and ignores the rest).
class MergingConfigFormat : public CLI::ConfigBase {
 public:
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::vector<CLI::ConfigItem> merged;
    for (CLI::ConfigItem& item : CLI::ConfigBase::from_config(input)) {
      auto same = absl::c_find_if(merged, [&item](const CLI::ConfigItem& had) {
        return had.fullname() == item.fullname();
      });
      if (same == merged.end()) {
        merged.push_back(std::move(item));
      } else {
        same->inputs.insert(same->inputs.end(), item.inputs.begin(),
                            item.inputs.end());
      }
    }
    return merged;
  }
};

// Builds dtrustd's whole command line on `app`, its values bound to
// `flags`: the one place where flags are declared (a config file read by
// CLI11 would fill the same fields; ParseCommandLine counts its values as
// given too).
void DeclareFlags(CLI::App& app, DtrustdFlags& flags) {
  app.name("dtrustd");
  app.description(
      "Serves the dtrust.v1.DirectTrust gRPC API: publishes mail transport\n"
      "servers' certificates into LDAP and answers whether a presented\n"
      "certificate is published (direct trust). With --policy-listen and\n"
      "--socketmap-listen it also answers Postfix's Domain Security checks.");
  app.footer(
      "On SIGHUP re-reads --config and applies --log-level and --log-format\n"
      "(other changes need a restart, and are logged); a bad config file is\n"
      "bad usage.\n"
      "Stops cleanly on SIGTERM or SIGINT. Exit status: 0 after a clean stop,\n"
      "1 when it cannot start, the directory cannot be set up, or a gRPC\n"
      "listener stopped accepting (a supervisor should restart it), 2 on bad\n"
      "usage.");
  app.get_formatter()->column_width(27);
  app.config_formatter(std::make_shared<MergingConfigFormat>());
  // Unknown arguments are reported by ParseCommandLine, naming them.
  app.allow_extras();
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  DeclareAccessFlags(app, flags);
  DeclareDirectoryFlags(app, flags);
  DeclareMirrorFlags(app, flags);
  DeclareWatchFlags(app, flags);
  DeclareMappingFlags(app, flags);
  DeclarePostfixFlags(app, flags);
  DeclareMetricsFlags(app, flags);
  DeclareOtherFlags(app, flags);
}

absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(message, " (see dtrustd --help)"));
}

// Parses `args` (argv; argv[0] is skipped) with `app` into the flags bound
// to it, and notes in `flags` which were given.
absl::Status ParseCommandLine(CLI::App& app,
                              const std::vector<std::string>& args,
                              DtrustdFlags& flags) {
  // CLI11 takes the arguments last first, without the program name.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) reversed.pop_back();
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    flags.help = true;
    return absl::OkStatus();
  } catch (const CLI::FileError& error) {
    return UsageError(absl::StrCat("--config: ", error.what()));
  } catch (const CLI::ArgumentMismatch& error) {
    // "--listen: 1 required ADDR missing".
    const absl::string_view message = error.what();
    if (!absl::StrContains(message, "missing")) return UsageError(message);
    return UsageError(
        absl::StrCat(message.substr(0, message.find(':')), " needs a value"));
  } catch (const CLI::ParseError& error) {
    return UsageError(error.what());
  }
  if (!app.remaining().empty()) {
    return UsageError(
        absl::StrCat("unknown option \"", app.remaining().front(), "\""));
  }
  for (const CLI::Option* option : app.get_options()) {
    if (option->count() > 0) flags.given.push_back(option->get_name());
  }
  return absl::OkStatus();
}

// The password of --bind-password-file: ReadPasswordFile's, and not empty.
absl::StatusOr<std::string> ReadBindPassword(const std::string& path) {
  absl::StatusOr<std::string> password = ReadPasswordFile(path);
  if (!password.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--bind-password-file ", path, ": cannot be read (",
                     password.status().message(), ")"));
  }
  if (password->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--bind-password-file ", path, ": is empty"));
  }
  return password;
}

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view value) {
  if (value == "text") return LogFormat::kText;
  if (value == "json") return LogFormat::kJson;
  return UsageError(
      absl::StrCat("--log-format: \"", value, "\" is not one of text, json"));
}

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view value) {
  if (value == "debug") return LogLevel::kDebug;
  if (value == "info") return LogLevel::kInfo;
  if (value == "warning") return LogLevel::kWarning;
  if (value == "error") return LogLevel::kError;
  return UsageError(absl::StrCat("--log-level: \"", value,
                                 "\" is not one of debug, info, warning, "
                                 "error"));
}

// The value of duration flag `flag`, which must be positive; `examples`
// ("5s or 500ms") go into the error.
absl::StatusOr<absl::Duration> ParsePositiveDuration(
    absl::string_view flag, const std::string& text,
    absl::string_view examples) {
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration) ||
      duration <= absl::ZeroDuration()) {
    return UsageError(absl::StrCat(flag, ": \"", text,
                                   "\" is not a positive duration such as ",
                                   examples));
  }
  return duration;
}

// The value of number flag `flag`, from `min` to `max`.
absl::StatusOr<int> ParseNumber(absl::string_view flag, const std::string& text,
                                int min, int max) {
  int number = 0;
  if (!absl::SimpleAtoi(text, &number) || number < min || number > max) {
    return UsageError(absl::StrCat(
        flag, ": \"", text, "\" is not a number from ", min, " to ", max));
  }
  return number;
}

absl::StatusOr<SyncMode> ParseSyncMode(const std::string& text) {
  for (SyncMode mode :
       {SyncMode::kRefreshAndPersist, SyncMode::kPoll, SyncMode::kNone}) {
    if (text == SyncModeName(mode)) return mode;
  }
  return UsageError(
      absl::StrCat("--directory-sync: \"", text,
                   "\" is not refresh-and-persist, poll or none"));
}

absl::StatusOr<ChangeAttribute> ParseChangeAttribute(const std::string& text) {
  if (absl::EqualsIgnoreCase(text, "modifyTimestamp")) {
    return ChangeAttribute::kModifyTimestamp;
  }
  if (absl::EqualsIgnoreCase(text, "uSNChanged")) {
    return ChangeAttribute::kUsnChanged;
  }
  return UsageError(absl::StrCat("--poll-change-attr: \"", text,
                                 "\" is not modifyTimestamp or uSNChanged"));
}

// A domain flag's value, normalized.
absl::StatusOr<std::string> ParseDomain(absl::string_view flag,
                                        const std::string& text) {
  absl::StatusOr<std::string> domain = NormalizeDnsName(text, flag);
  if (!domain.ok()) return UsageError(domain.status().message());
  return domain;
}

// "sha256:HEX" or a certificate file: the client certificate's digest.
absl::StatusOr<Sha256Digest> ParseAdminClient(const std::string& value) {
  absl::string_view text = value;
  if (absl::ConsumePrefix(&text, "sha256:")) {
    absl::StatusOr<Sha256Digest> digest =
        Sha256Digest::FromHex(text, "--admin-client sha256");
    if (!digest.ok()) return UsageError(digest.status().message());
    return *digest;
  }
  absl::StatusOr<std::string> data = ReadSmallFile(value, kMaxPemFileBytes);
  if (!data.ok()) {
    return UsageError(
        absl::StrCat("--admin-client: ", data.status().message()));
  }
  absl::StatusOr<Certificate> certificate =
      Certificate::FromPemOrDer(*data, value);
  if (!certificate.ok()) {
    return UsageError(
        absl::StrCat("--admin-client: ", certificate.status().message()));
  }
  return certificate->sha256();
}

// Whether gRPC address `listen` (HOST:PORT) is on a loopback address.
bool IsLoopbackListen(absl::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == absl::string_view::npos) return false;
  absl::string_view host = listen.substr(0, colon);
  if (absl::ConsumePrefix(&host, "[")) {
    return absl::ConsumeSuffix(&host, "]") && host == "::1";
  }
  in_addr v4{};
  const std::string host_text(host);
  return host == "localhost" ||
         (inet_pton(AF_INET, host_text.c_str(), &v4) == 1 &&
          (ntohl(v4.s_addr) >> 24) == 127);
}

// Reads the TLS files and checks that plain TCP stays on loopback.
absl::Status CheckTls(const DtrustdFlags& flags, DtrustdOptions& options) {
  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    return UsageError("--tls-cert and --tls-key go together");
  }
  if (!flags.tls_cert.empty()) {
    for (auto [path, pem] : {std::pair(&flags.tls_cert, &options.tls_cert_pem),
                             std::pair(&flags.tls_key, &options.tls_key_pem)}) {
      absl::StatusOr<std::string> data = ReadSmallFile(*path, kMaxPemFileBytes);
      if (!data.ok()) return UsageError(data.status().message());
      *pem = *std::move(data);
    }
    return absl::OkStatus();
  }
  for (const std::string& listen : options.listen) {
    if (!absl::StartsWith(listen, "unix:") && !IsLoopbackListen(listen)) {
      return UsageError(absl::StrCat(
          "--listen ", listen,
          ": plain TCP on a non-loopback address would let anyone on the "
          "network call dtrustd anonymously; give --tls-cert and --tls-key, "
          "or listen on loopback or a unix socket"));
    }
  }
  return absl::OkStatus();
}

// The gRPC listeners and who may call them.
absl::Status ApplyAccessFlags(const DtrustdFlags& flags,
                              DtrustdOptions& options) {
  if (!flags.listen.empty()) {
    if (absl::c_linear_search(flags.listen, "")) {
      return UsageError("--listen is empty");
    }
    options.listen = flags.listen;
  }
  for (const std::string& value : flags.admin_clients) {
    DTRUST_ASSIGN_OR_RETURN(Sha256Digest digest, ParseAdminClient(value));
    options.admin_clients.push_back(digest);
  }
  if (flags.Given("--anonymous")) {
    if (flags.anonymous != "reader" && flags.anonymous != "none") {
      return UsageError(absl::StrCat("--anonymous: \"", flags.anonymous,
                                     "\" is not reader or none"));
    }
    DTRUST_ASSIGN_OR_RETURN(options.anonymous_role,
                            ParseRole(flags.anonymous, "--anonymous"));
  }
  return CheckTls(flags, options);
}

// The scheme of each URI in `uri` (one URI or a libldap list separated by
// spaces or commas), lower-cased.
std::vector<std::string> UriSchemes(absl::string_view uri) {
  std::vector<std::string> schemes;
  for (absl::string_view one :
       absl::StrSplit(uri, absl::ByAnyChar(" \t,"), absl::SkipEmpty())) {
    const size_t end = one.find("://");
    schemes.push_back(absl::AsciiStrToLower(
        one.substr(0, end == absl::string_view::npos ? 0 : end)));
  }
  return schemes;
}

// --ldap-ca and --ldap-starttls: need --ldap-uri; leave no ldap:// URI plain
// and no list of URIs with mixed schemes (each gets its own --ldap-uri); the
// CA file must hold a PEM certificate.
absl::Status CheckLdapTls(const DtrustdOptions& options) {
  if (options.ldap_ca_file.empty() && !options.ldap_start_tls) {
    return absl::OkStatus();
  }
  if (options.ldap_uris.empty()) {
    return UsageError(
        "--ldap-ca and --ldap-starttls need --ldap-uri (the embedded "
        "directory is reached over its unix socket)");
  }
  bool any_ldap = false;
  for (const std::string& uri : options.ldap_uris) {
    const std::vector<std::string> schemes = UriSchemes(uri);
    if (schemes.size() != 1) {
      return UsageError(absl::StrCat("--ldap-uri \"", uri,
                                     "\": with --ldap-ca or --ldap-starttls, "
                                     "give each URI its own --ldap-uri"));
    }
    if (schemes[0] != "ldap") continue;
    any_ldap = true;
    if (!options.ldap_start_tls) {
      return UsageError(absl::StrCat(
          "--ldap-uri ", uri,
          " would be a plain connection although --ldap-ca asks for TLS: "
          "add --ldap-starttls or use ldaps://"));
    }
  }
  if (options.ldap_start_tls && !any_ldap) {
    return UsageError("--ldap-starttls applies to ldap:// URIs; none is given");
  }
  if (options.ldap_ca_file.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> pem =
      ReadSmallFile(options.ldap_ca_file, kMaxPemFileBytes);
  if (!pem.ok()) {
    return UsageError(absl::StrCat("--ldap-ca: ", pem.status().message()));
  }
  if (!absl::StrContains(*pem, "-----BEGIN CERTIFICATE-----")) {
    return UsageError(absl::StrCat("--ldap-ca ", options.ldap_ca_file,
                                   ": holds no PEM certificate"));
  }
  return absl::OkStatus();
}

// How dtrustd binds to the directory: --data-dir and --ldap-uri exclude each
// other; an external one takes a simple bind (reading the password file) or
// SASL EXTERNAL.
absl::Status ApplyBindFlags(const DtrustdFlags& flags,
                            DtrustdOptions& options) {
  const bool external = !options.ldap_uris.empty();
  const bool simple_bind =
      !flags.bind_dn.empty() || !flags.bind_password_file.empty();
  if (external && flags.Given("--data-dir")) {
    return UsageError(
        "--data-dir (embedded directory) and --ldap-uri (external directory) "
        "exclude each other");
  }
  if (!external && (simple_bind || flags.sasl_external)) {
    return UsageError(
        "--bind-dn, --bind-password-file and --sasl-external need --ldap-uri; "
        "the embedded directory binds by itself");
  }
  if (flags.sasl_external && simple_bind) {
    return UsageError(
        "--sasl-external excludes --bind-dn/--bind-password-file");
  }
  if (flags.bind_dn.empty() != flags.bind_password_file.empty()) {
    return UsageError("--bind-dn and --bind-password-file go together");
  }
  options.bind_dn = flags.bind_dn;
  options.sasl_external = flags.sasl_external;
  if (!flags.bind_password_file.empty()) {
    DTRUST_ASSIGN_OR_RETURN(options.bind_password,
                            ReadBindPassword(flags.bind_password_file));
  }
  return absl::OkStatus();
}

// The embedded or external directory, and how dtrustd connects to it.
absl::Status ApplyDirectoryFlags(const DtrustdFlags& flags,
                                 DtrustdOptions& options) {
  if (flags.Given("--data-dir")) options.data_dir = flags.data_dir;
  options.ldap_uris = flags.ldap_uris;
  options.base_dn =
      flags.base_dn.empty() ? kDefaultEmbeddedBaseDn : flags.base_dn;
  options.ldap_ca_file = flags.ldap_ca;
  options.ldap_start_tls = flags.ldap_start_tls;
  if (flags.Given("--ldap-timeout")) {
    DTRUST_ASSIGN_OR_RETURN(
        options.ldap_timeout,
        ParsePositiveDuration("--ldap-timeout", flags.ldap_timeout,
                              "5s or 500ms"));
  }
  if (flags.Given("--ldap-connections")) {
    DTRUST_ASSIGN_OR_RETURN(
        options.ldap_connections,
        ParseNumber("--ldap-connections", flags.ldap_connections, 1, 64));
  }
  DTRUST_RETURN_IF_ERROR(ApplyBindFlags(flags, options));
  return CheckLdapTls(options);
}

// The mirror: how it follows the directory and how long it may lag.
absl::Status ApplyMirrorFlags(const DtrustdFlags& flags,
                              DtrustdOptions& options) {
  if (flags.Given("--directory-sync")) {
    DTRUST_ASSIGN_OR_RETURN(options.directory_sync,
                            ParseSyncMode(flags.directory_sync));
  }
  for (auto [flag, text, duration] :
       {std::tuple("--max-staleness", &flags.max_staleness,
                   &options.max_staleness),
        std::tuple("--poll-interval", &flags.poll_interval,
                   &options.poll_interval),
        std::tuple("--startup-timeout", &flags.startup_timeout,
                   &options.startup_timeout)}) {
    if (!flags.Given(flag)) continue;
    DTRUST_ASSIGN_OR_RETURN(*duration,
                            ParsePositiveDuration(flag, *text, "5m or 30s"));
  }
  if (options.directory_sync == SyncMode::kPoll &&
      options.poll_interval >= options.max_staleness) {
    return UsageError(absl::StrCat(
        "--poll-interval (", absl::FormatDuration(options.poll_interval),
        ") must be less than --max-staleness (",
        absl::FormatDuration(options.max_staleness),
        "), or the mirror goes stale between polls"));
  }
  return absl::OkStatus();
}

// The first flag given that needs --directory-sync=poll (--poll-*, --map-*)
// or, if `foreign_only`, that only a mapping of a tree without the dtrust
// schema uses; empty if none.
std::string FirstMappingFlag(const DtrustdFlags& flags, bool foreign_only) {
  for (const std::string& flag : flags.given) {
    if (foreign_only &&
        (flag == "--map-id-attr" || flag == "--map-server-filter" ||
         absl::StartsWith(flag, "--poll-"))) {
      continue;
    }
    if (absl::StartsWith(flag, "--poll-") || absl::StartsWith(flag, "--map-")) {
      return flag;
    }
  }
  return "";
}

// Checks how the poll and mapping flags combine; sets mapping->foreign
// when a server filter was given.
absl::Status CheckMapping(const DtrustdFlags& flags,
                          const DtrustdOptions& options, ForeignMapping foreign,
                          DirectoryMapping* mapping) {
  if (const std::string poll_flag = FirstMappingFlag(flags, false);
      !poll_flag.empty() && options.directory_sync != SyncMode::kPoll) {
    return UsageError(absl::StrCat(poll_flag, " needs --directory-sync=poll"));
  }
  if (foreign.server_filter.empty()) {
    if (const std::string foreign_flag = FirstMappingFlag(flags, true);
        !foreign_flag.empty()) {
      return UsageError(absl::StrCat(
          foreign_flag,
          " needs --map-server-filter (a mapping of a tree without the "
          "dtrust schema)"));
    }
    return absl::OkStatus();
  }
  if (options.ldap_uris.empty()) {
    return UsageError(
        "--map-server-filter maps an existing directory: it needs "
        "--ldap-uri (the embedded directory has the dtrust schema)");
  }
  if (!foreign.domain_attribute.empty() && !foreign.domains.empty()) {
    return UsageError("--map-domain-attr and --map-domain exclude each other");
  }
  const bool list_attributes = !foreign.send_secure_attribute.empty() ||
                               !foreign.receive_secure_attribute.empty();
  if (foreign.domain_list_dn.empty() && list_attributes) {
    return UsageError(
        "--map-send-secure-attr and --map-receive-secure-attr need "
        "--map-domain-list-dn (the entry holding the lists)");
  }
  if (!foreign.domain_list_dn.empty() && !list_attributes) {
    return UsageError(
        "--map-domain-list-dn needs --map-send-secure-attr and/or "
        "--map-receive-secure-attr (its list attributes)");
  }
  std::sort(foreign.domains.begin(), foreign.domains.end());
  foreign.domains.erase(
      std::unique(foreign.domains.begin(), foreign.domains.end()),
      foreign.domains.end());
  mapping->foreign = std::move(foreign);
  return absl::OkStatus();
}

// The attribute flags' values: each must be an LDAP attribute name.
absl::Status ApplyAttributeFlags(const DtrustdFlags& flags,
                                 DirectoryMapping& mapping,
                                 ForeignMapping& foreign) {
  for (auto [flag, text, attribute] :
       {std::tuple("--map-id-attr", &flags.map_id_attr, &mapping.id_attribute),
        std::tuple("--map-server-name-attr", &flags.map_server_name_attr,
                   &foreign.server_name_attribute),
        std::tuple("--map-certificate-attr", &flags.map_certificate_attr,
                   &foreign.certificate_attribute),
        std::tuple("--map-domain-attr", &flags.map_domain_attr,
                   &foreign.domain_attribute),
        std::tuple("--map-send-secure-attr", &flags.map_send_secure_attr,
                   &foreign.send_secure_attribute),
        std::tuple("--map-receive-secure-attr", &flags.map_receive_secure_attr,
                   &foreign.receive_secure_attribute)}) {
    if (!flags.Given(flag)) continue;
    if (!IsAttributeDescription(*text)) {
      return UsageError(absl::StrCat(flag, ": \"", *text,
                                     "\" is not an LDAP attribute name"));
    }
    *attribute = *text;
  }
  return absl::OkStatus();
}

// How the poll mode reads the directory, and the mapping of a tree without
// the dtrust schema.
absl::Status ApplyMappingFlags(const DtrustdFlags& flags,
                               DtrustdOptions& options) {
  DirectoryMapping& mapping = options.directory_mapping;
  if (flags.Given("--poll-change-attr")) {
    DTRUST_ASSIGN_OR_RETURN(mapping.change_attribute,
                            ParseChangeAttribute(flags.poll_change_attr));
  }
  if (flags.Given("--poll-full-every")) {
    DTRUST_ASSIGN_OR_RETURN(
        mapping.full_load_every,
        ParseNumber("--poll-full-every", flags.poll_full_every, 1, 1000000));
  }
  ForeignMapping foreign;
  DTRUST_RETURN_IF_ERROR(ApplyAttributeFlags(flags, mapping, foreign));
  const std::string& filter = flags.map_server_filter;
  if (flags.Given("--map-server-filter") &&
      (filter.size() < 2 || filter.front() != '(' || filter.back() != ')')) {
    return UsageError(absl::StrCat("--map-server-filter: \"", filter,
                                   "\" is not an LDAP filter in parentheses"));
  }
  foreign.server_filter = filter;
  for (const std::string& text : flags.map_domains) {
    DTRUST_ASSIGN_OR_RETURN(std::string domain,
                            ParseDomain("--map-domain", text));
    foreign.domains.push_back(std::move(domain));
  }
  if (flags.Given("--map-domain-list-dn") && flags.map_domain_list_dn.empty()) {
    return UsageError("--map-domain-list-dn is empty");
  }
  foreign.domain_list_dn = flags.map_domain_list_dn;
  return CheckMapping(flags, options, std::move(foreign), &mapping);
}

// The bounds of each policy and socketmap socket.
absl::Status ApplyPostfixLimitFlags(const DtrustdFlags& flags,
                                    DtrustdOptions& options) {
  PostfixLimits& limits = options.postfix_limits;
  for (auto [flag, text, duration] :
       {std::tuple("--request-timeout", &flags.request_timeout,
                   &limits.request_timeout),
        std::tuple("--policy-idle-timeout", &flags.policy_idle_timeout,
                   &limits.policy_idle_timeout),
        std::tuple("--socketmap-idle-timeout", &flags.socketmap_idle_timeout,
                   &limits.socketmap_idle_timeout)}) {
    if (!flags.Given(flag)) continue;
    DTRUST_ASSIGN_OR_RETURN(*duration,
                            ParsePositiveDuration(flag, *text, "10s or 5m"));
  }
  for (auto [flag, text, number, max] :
       {std::tuple("--max-connections", &flags.max_connections,
                   &limits.max_connections, 1'000'000),
        std::tuple("--max-connections-per-client",
                   &flags.max_connections_per_client,
                   &limits.max_connections_per_client, 1'000'000),
        std::tuple("--decision-threads", &flags.decision_threads,
                   &limits.decision_threads, 64)}) {
    if (!flags.Given(flag)) continue;
    DTRUST_ASSIGN_OR_RETURN(*number, ParseNumber(flag, *text, 1, max));
  }
  return absl::OkStatus();
}

// The Postfix policy and socketmap services.
absl::Status ApplyPostfixFlags(const DtrustdFlags& flags,
                               DtrustdOptions& options) {
  for (auto [flag, texts, addresses] :
       {std::tuple("--policy-listen", &flags.policy_listen,
                   &options.policy_listen),
        std::tuple("--socketmap-listen", &flags.socketmap_listen,
                   &options.socketmap_listen)}) {
    for (const std::string& text : *texts) {
      absl::StatusOr<ListenAddress> address = ParseListenAddress(text);
      if (!address.ok()) {
        return UsageError(absl::StrCat(flag, ": ", address.status().message()));
      }
      addresses->push_back(*std::move(address));
    }
  }
  const std::string& name = flags.socketmap_name;
  if (flags.Given("--socketmap-name") &&
      (name.empty() || !absl::c_all_of(name, absl::ascii_isgraph))) {
    return UsageError(
        absl::StrCat("--socketmap-name: \"", name,
                     "\" is not a non-empty name without spaces"));
  }
  if (!name.empty() && options.socketmap_listen.empty()) {
    return UsageError("--socketmap-name needs --socketmap-listen");
  }
  options.socketmap_name = name;
  return ApplyPostfixLimitFlags(flags, options);
}

// The domains needing proof of possession (normalized, sorted, unique), and
// the log level.
absl::Status ApplyOtherFlags(const DtrustdFlags& flags,
                             DtrustdOptions& options) {
  std::vector<std::string>& domains = options.require_proof_for;
  for (const std::string& text : flags.require_proof_for) {
    DTRUST_ASSIGN_OR_RETURN(std::string domain,
                            ParseDomain("--require-proof-for", text));
    domains.push_back(std::move(domain));
  }
  std::sort(domains.begin(), domains.end());
  domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
  if (flags.Given("--log-level")) {
    DTRUST_ASSIGN_OR_RETURN(options.log_level, ParseLogLevel(flags.log_level));
  }
  if (flags.Given("--log-format")) {
    DTRUST_ASSIGN_OR_RETURN(options.log_format,
                            ParseLogFormat(flags.log_format));
  }
  return absl::OkStatus();
}

absl::Status ApplyGrpcLimitFlags(const DtrustdFlags& flags,
                                 DtrustdOptions& options) {
  const std::tuple<const char*, const std::string*, int*, int> numbers[] = {
      {"--grpc-max-streams", &flags.grpc_max_streams, &options.grpc_max_streams,
       10000},
      {"--grpc-max-threads", &flags.grpc_max_threads, &options.grpc_max_threads,
       10000},
      {"--grpc-max-memory", &flags.grpc_max_memory,
       &options.grpc_max_memory_mib, 65536},
      {"--health-max-watches", &flags.health_max_watches,
       &options.health_max_watches, 10000}};
  for (const auto& [flag, text, value, max] : numbers) {
    if (!flags.Given(flag)) continue;
    DTRUST_ASSIGN_OR_RETURN(*value, ParseNumber(flag, *text, 1, max));
  }
  if (options.health_max_watches + kGrpcThreadsBesideWatches >
      options.grpc_max_threads) {
    return UsageError(absl::StrCat(
        "--health-max-watches (", options.health_max_watches,
        ") must be at most --grpc-max-threads (", options.grpc_max_threads,
        ") minus ", kGrpcThreadsBesideWatches,
        ", or watchers could take every thread"));
  }
  return absl::OkStatus();
}

// Watch: bounds of the streams and of the mirror's change log. Its streams
// hold gRPC threads as Health/Watch's do.
absl::Status ApplyWatchFlags(const DtrustdFlags& flags,
                             DtrustdOptions& options) {
  const std::tuple<const char*, const std::string*, int*, int, int> numbers[] =
      {{"--watch-max-watchers", &flags.watch_max_watchers,
        &options.watch_max_watchers, 1, 10000},
       {"--watch-max-message-bytes", &flags.watch_max_message_bytes,
        &options.watch_max_message_bytes, 4096, 4'000'000},
       {"--watch-change-log", &flags.watch_change_log,
        &options.watch_change_log, 1, 10'000'000}};
  for (const auto& [flag, text, value, min, max] : numbers) {
    if (!flags.Given(flag)) continue;
    DTRUST_ASSIGN_OR_RETURN(*value, ParseNumber(flag, *text, min, max));
  }
  if (flags.Given("--watch-send-deadline")) {
    DTRUST_ASSIGN_OR_RETURN(
        options.watch_send_deadline,
        ParsePositiveDuration("--watch-send-deadline",
                              flags.watch_send_deadline, "5s or 500ms"));
  }
  if (options.health_max_watches + options.watch_max_watchers +
          kGrpcThreadsBesideWatches >
      options.grpc_max_threads) {
    return UsageError(absl::StrCat(
        "--health-max-watches (", options.health_max_watches,
        ") plus --watch-max-watchers (", options.watch_max_watchers,
        ") must be at most --grpc-max-threads (", options.grpc_max_threads,
        ") minus ", kGrpcThreadsBesideWatches,
        ", or watchers could take every thread"));
  }
  return absl::OkStatus();
}

// --metrics-listen: HOST:PORT, on loopback unless --metrics-allow-remote.
absl::Status ApplyMetricsFlags(const DtrustdFlags& flags,
                               DtrustdOptions& options) {
  if (flags.metrics_allow_remote && !flags.Given("--metrics-listen")) {
    return UsageError("--metrics-allow-remote needs --metrics-listen");
  }
  if (!flags.Given("--metrics-listen")) return absl::OkStatus();
  const absl::string_view listen = flags.metrics_listen;
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return UsageError(absl::StrCat("--metrics-listen \"",
                                   absl::CHexEscape(listen),
                                   "\" is not HOST:PORT"));
  }
  if (!flags.metrics_allow_remote && !IsLoopbackListen(listen)) {
    return UsageError(absl::StrCat(
        "--metrics-listen ", listen,
        ": not a loopback address; anyone on the network could read the "
        "metrics. Give --metrics-allow-remote to serve them there anyway"));
  }
  options.metrics_listen = flags.metrics_listen;
  return absl::OkStatus();
}

// All flags, checked and combined.
absl::StatusOr<DtrustdOptions> ApplyFlags(const DtrustdFlags& flags) {
  DtrustdOptions options;
  DTRUST_RETURN_IF_ERROR(ApplyAccessFlags(flags, options));
  DTRUST_RETURN_IF_ERROR(ApplyGrpcLimitFlags(flags, options));
  DTRUST_RETURN_IF_ERROR(ApplyWatchFlags(flags, options));
  DTRUST_RETURN_IF_ERROR(ApplyDirectoryFlags(flags, options));
  DTRUST_RETURN_IF_ERROR(ApplyMirrorFlags(flags, options));
  DTRUST_RETURN_IF_ERROR(ApplyMappingFlags(flags, options));
  DTRUST_RETURN_IF_ERROR(ApplyPostfixFlags(flags, options));
  DTRUST_RETURN_IF_ERROR(ApplyMetricsFlags(flags, options));
  DTRUST_RETURN_IF_ERROR(ApplyOtherFlags(flags, options));
  options.check_config = flags.check_config;
  return options;
}

// One option line of the config file: "NAME = VALUE" on line `number`.
struct ConfigLine {
  std::string name;  // Without quotes or dashes: "log-level".
  std::string value;
  int number = 0;
};

// The config file read, and where each option is set in it.
struct ConfigFile {
  std::string path;  // Empty: none was read.
  std::vector<ConfigLine> lines;
};

// Refuses a config file that another user than root or dtrustd's own owns,
// or that others may write: it names who is admin.
absl::Status CheckConfigFileOwner(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    return UsageError(absl::StrCat("--config ", path, ": ", strerror(errno)));
  }
  const std::string why = absl::StrFormat(
      " (owner uid %d, mode %04o); it says who is admin, so dtrustd reads "
      "only a file that root or its own user (uid %d) controls. ",
      info.st_uid, info.st_mode & 07777, geteuid());
  if (info.st_uid != 0 && info.st_uid != geteuid()) {
    return UsageError(absl::StrCat("--config ", path,
                                   " is owned by another user", why,
                                   "Run `chown root ", path, "`"));
  }
  if ((info.st_mode & S_IWOTH) != 0) {
    return UsageError(absl::StrCat("--config ", path, " is writable by others",
                                   why, "Run `chmod o-w ", path, "`"));
  }
  return absl::OkStatus();
}

// `text` without surrounding whitespace and quotes.
std::string Unquoted(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
      text.back() == text.front()) {
    text = text.substr(1, text.size() - 2);
  }
  return std::string(text);
}

// How many values CLI11 reads from config line `line`.
size_t ValuesOfLine(absl::string_view line) {
  std::istringstream input{std::string(line)};
  const std::vector<CLI::ConfigItem> items =
      CLI::ConfigBase().from_config(input);
  return items.empty() ? 0 : items.front().inputs.size();
}

// The option lines of config file `path`, each naming an option `app` lets
// a file set; otherwise "PATH:LINE: ..." errors.
absl::StatusOr<std::vector<ConfigLine>> ScanConfigFile(const std::string& path,
                                                       const CLI::App& app) {
  absl::StatusOr<std::string> text = ReadSmallFile(path, kMaxConfigFileBytes);
  if (!text.ok()) {
    return UsageError(absl::StrCat("--config: ", text.status().message()));
  }
  std::vector<ConfigLine> lines;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    const std::string where = absl::StrCat(path, ":", number, ": ");
    if (line.front() == '[') {
      return UsageError(absl::StrCat(where, "sections are not supported"));
    }
    const size_t equals = line.find('=');
    ConfigLine option{Unquoted(line.substr(0, equals)), "", number};
    const CLI::Option* declared = app.get_option_no_throw("--" + option.name);
    if (option.name.empty() || declared == nullptr ||
        !declared->get_configurable()) {
      return UsageError(absl::StrCat(where, "unknown option \"", option.name,
                                     "\" (a long option without --)"));
    }
    if (equals != line.npos) option.value = Unquoted(line.substr(equals + 1));
    if (declared->get_multi_option_policy() !=
            CLI::MultiOptionPolicy::TakeAll &&
        ValuesOfLine(line) > 1) {
      return UsageError(absl::StrCat(
          where, "--", option.name,
          " takes one value; quote a value holding spaces or commas"));
    }
    lines.push_back(std::move(option));
  }
  return lines;
}

// The config file CLI11 read or tried to read (--config, or the default if
// it exists), checked and scanned; an empty ConfigFile if none exists.
absl::StatusOr<ConfigFile> ReadConfigFile(const CLI::App& app) {
  ConfigFile file;
  const std::string path = app.get_config_ptr()->as<std::string>();
  if (path.empty() || access(path.c_str(), F_OK) != 0) return file;
  DTRUST_RETURN_IF_ERROR(CheckConfigFileOwner(path));
  DTRUST_ASSIGN_OR_RETURN(file.lines, ScanConfigFile(path, app));
  file.path = path;
  return file;
}

// Whether `args` (argv) give option `name` ("--listen").
bool OnCommandLine(const std::vector<std::string>& args,
                   absl::string_view name) {
  return absl::c_any_of(args, [name](absl::string_view arg) {
    return absl::ConsumePrefix(&arg, name) &&
           (arg.empty() || arg.front() == '=');
  });
}

// Whether `message` quotes ("...") one of the values of `line`, a value or
// a list [a, b].
bool QuotesValueOf(absl::string_view message, const ConfigLine& line) {
  absl::string_view list = line.value;
  if (absl::ConsumePrefix(&list, "[")) absl::ConsumeSuffix(&list, "]");
  for (absl::string_view value : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    if (absl::StrContains(message, absl::StrCat("\"", Unquoted(value), "\""))) {
      return true;
    }
  }
  return false;
}

// The line of `file` that `error` is about: one setting the first option
// the message names ("--log-level: ...") that is set in the file and not
// on the command line `args`, preferring the line whose value the message
// quotes; null if none.
const ConfigLine* LineOfError(const ConfigFile& file,
                              const std::vector<std::string>& args,
                              absl::string_view error) {
  const ConfigLine* found = nullptr;
  size_t found_at = error.size();
  for (const ConfigLine& line : file.lines) {
    const std::string flag = "--" + line.name;
    const size_t at = error.find(flag);
    const size_t end = at + flag.size();
    if (at == error.npos || at > found_at || OnCommandLine(args, flag) ||
        (end < error.size() &&
         (absl::ascii_isalnum(error[end]) || error[end] == '-'))) {
      continue;
    }
    // The same option on several lines: the one whose value is quoted.
    if (at < found_at || QuotesValueOf(error.substr(end), line)) {
      found = &line;
      found_at = at;
    }
  }
  return found;
}

// `error`, prefixed "FILE:LINE: " when the option it is about was set in
// the config file.
absl::Status LocateInConfigFile(const absl::Status& error,
                                const ConfigFile& file,
                                const std::vector<std::string>& args) {
  const ConfigLine* line = LineOfError(file, args, error.message());
  if (line == nullptr) return error;
  return absl::Status(error.code(), absl::StrCat(file.path, ":", line->number,
                                                 ": ", error.message()));
}

// Every option given, by name, with its values as written.
std::map<std::string, std::vector<std::string>> GivenValues(
    const CLI::App& app) {
  std::map<std::string, std::vector<std::string>> given;
  for (const CLI::Option* option : app.get_options()) {
    if (option->count() > 0) given[option->get_name()] = option->results();
  }
  return given;
}

}  // namespace

std::string DtrustdUsage() {
  DtrustdFlags flags;
  CLI::App app;
  DeclareFlags(app, flags);
  return app.help();
}

absl::StatusOr<DtrustdOptions> ParseDtrustdOptions(
    const std::vector<std::string>& args) {
  DtrustdFlags flags;
  CLI::App app;
  DeclareFlags(app, flags);
  const absl::Status parsed = ParseCommandLine(app, args, flags);
  if (parsed.ok() && flags.help) {
    DtrustdOptions options;
    options.help = true;
    return options;
  }
  DTRUST_ASSIGN_OR_RETURN(const ConfigFile file, ReadConfigFile(app));
  absl::StatusOr<DtrustdOptions> options =
      parsed.ok() ? ApplyFlags(flags) : parsed;
  if (!options.ok()) {
    return LocateInConfigFile(options.status(), file, args);
  }
  options->config_file = file.path;
  options->given_values = GivenValues(app);
  return options;
}

}  // namespace dtrust
