#include "server/dtrustd_options.h"

#include <arpa/inet.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/base/files.h"
#include "server/core/certificate.h"
#include "server/core/dns_name.h"
#include "server/core/status_macros.h"

namespace dtrust {
namespace {

// Largest certificate or key file read.
constexpr size_t kMaxPemFileBytes = 1024 * 1024;

// Files named by access flags, read once all flags are known.
struct AccessFiles {
  std::string tls_cert;
  std::string tls_key;
};

absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(message, " (see dtrustd --help)"));
}

absl::StatusOr<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--bind-password-file ", path, ": cannot be read"));
  }
  std::stringstream contents;
  contents << in.rdbuf();
  std::string password = contents.str();
  while (!password.empty() &&
         (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (password.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--bind-password-file ", path, ": is empty"));
  }
  return password;
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

// The ForeignMapping field an attribute flag sets.
std::string* AttributeFlag(absl::string_view flag, ForeignMapping& foreign) {
  if (flag == "--map-server-name-attr") return &foreign.server_name_attribute;
  if (flag == "--map-certificate-attr") return &foreign.certificate_attribute;
  if (flag == "--map-domain-attr") return &foreign.domain_attribute;
  if (flag == "--map-send-secure-attr") return &foreign.send_secure_attribute;
  return &foreign.receive_secure_attribute;
}

// Checks how the poll and mapping flags combine; sets mapping->foreign
// when a server filter was given.
absl::Status CheckMapping(const DtrustdOptions& options,
                          const std::vector<std::string>& poll_flags,
                          const std::vector<std::string>& foreign_flags,
                          ForeignMapping foreign, DirectoryMapping* mapping) {
  if (!poll_flags.empty() && options.directory_sync != SyncMode::kPoll) {
    return UsageError(
        absl::StrCat(poll_flags.front(), " needs --directory-sync=poll"));
  }
  if (foreign.server_filter.empty()) {
    if (!foreign_flags.empty()) {
      return UsageError(absl::StrCat(
          foreign_flags.front(),
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

// Handles the listener and client-authorization flags; false if `flag` is
// none of them.
absl::StatusOr<bool> ParseAccessFlag(
    const std::string& flag,
    absl::FunctionRef<absl::StatusOr<std::string>()> take_value,
    DtrustdOptions& options, bool& listen_given, AccessFiles& files) {
  if (flag == "--listen") {
    DTRUST_ASSIGN_OR_RETURN(std::string address, take_value());
    if (address.empty()) return UsageError("--listen is empty");
    if (!listen_given) options.listen.clear();
    listen_given = true;
    options.listen.push_back(std::move(address));
  } else if (flag == "--tls-cert") {
    DTRUST_ASSIGN_OR_RETURN(files.tls_cert, take_value());
  } else if (flag == "--tls-key") {
    DTRUST_ASSIGN_OR_RETURN(files.tls_key, take_value());
  } else if (flag == "--admin-client") {
    DTRUST_ASSIGN_OR_RETURN(std::string value, take_value());
    DTRUST_ASSIGN_OR_RETURN(Sha256Digest digest, ParseAdminClient(value));
    options.admin_clients.push_back(digest);
  } else if (flag == "--anonymous") {
    DTRUST_ASSIGN_OR_RETURN(std::string value, take_value());
    if (value != "reader" && value != "none") {
      return UsageError(
          absl::StrCat("--anonymous: \"", value, "\" is not reader or none"));
    }
    DTRUST_ASSIGN_OR_RETURN(options.anonymous_role,
                            ParseRole(value, "--anonymous"));
  } else {
    return false;
  }
  return true;
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

// Reads the TLS files and checks that plain TCP stays on loopback.
absl::Status CheckAccess(const AccessFiles& files, DtrustdOptions& options) {
  if (files.tls_cert.empty() != files.tls_key.empty()) {
    return UsageError("--tls-cert and --tls-key go together");
  }
  if (!files.tls_cert.empty()) {
    for (auto [path, pem] : {std::pair(&files.tls_cert, &options.tls_cert_pem),
                             std::pair(&files.tls_key, &options.tls_key_pem)}) {
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

}  // namespace

std::string DtrustdUsage() {
  return absl::StrCat(
      "Usage: dtrustd [OPTIONS]\n"
      "\n"
      "Serves the dtrust.v1.DirectTrust gRPC API: publishes mail transport\n"
      "servers' certificates into LDAP and answers whether a presented\n"
      "certificate is published (direct trust). With --policy-listen and\n"
      "--socketmap-listen it also answers Postfix's Domain Security checks.\n"
      "\n"
      "  --listen ADDR            gRPC address, HOST:PORT or unix:PATH;\n"
      "                           repeatable, every one is served (default ",
      kDefaultUnixListenAddress,
      "\n"
      "                           and ",
      kDefaultListenAddress,
      ")\n"
      "  --tls-cert FILE          TLS on every TCP --listen with this\n"
      "  --tls-key FILE           certificate and key (PEM); clients must\n"
      "                           present a certificate, identified by its\n"
      "                           SHA-256. Without TLS, TCP listeners must be\n"
      "                           on loopback (callers there are anonymous)\n"
      "  --admin-client CERT-FILE|sha256:HEX\n"
      "                           a client certificate that is admin without\n"
      "                           a grant (bootstrap); repeatable. Local root\n"
      "                           and dtrustd's own user are admin over the\n"
      "                           unix socket\n"
      "  --anonymous reader|none  what callers without an identity (or\n"
      "                           without a grant) may do (default reader:\n"
      "                           Verify, Ping, GetStatus, health)\n"
      "\n"
      "Embedded directory (the default, when no --ldap-uri is given):\n"
      "  --data-dir DIR           run a private slapd with its data in DIR,\n"
      "                           reachable only through DIR/ldapi (default ",
      kDefaultDataDir,
      ")\n"
      "\n"
      "External directory (a slapd with deploy/ldap/dtrust.schema loaded):\n"
      "  --ldap-uri URI           ldap://, ldaps:// or ldapi:// URI;\n"
      "                           repeat for failover, tried in order\n"
      "  --base-dn DN             entries live under DN (default ",
      kDefaultEmbeddedBaseDn,
      ")\n"
      "  --bind-dn DN             simple bind as DN ...\n"
      "  --bind-password-file F   ... with the password in F\n"
      "  --sasl-external          SASL EXTERNAL bind (ldapi:// peer "
      "credentials)\n"
      "  --ldap-ca FILE           the CA certificates (PEM) that the\n"
      "                           directory's certificate must chain to, for\n"
      "                           ldaps:// and StartTLS (default: the system\n"
      "                           store); its host name is always checked\n"
      "  --ldap-starttls          ldap:// URIs must switch to TLS (StartTLS)\n"
      "                           before the bind; a server that cannot is\n"
      "                           an error, never a plain connection\n"
      "  --ldap-timeout DURATION  connect and per-operation timeout "
      "(default 5s)\n"
      "  --ldap-connections N     connection pool size (default 4)\n"
      "\n"
      "Answers (Verify, policy, socketmap) come from an in-memory mirror of\n"
      "the directory:\n"
      "  --directory-sync MODE    refresh-and-persist (default): follow the\n"
      "                           directory live (RFC 4533; slapd needs the\n"
      "                           syncprov overlay); poll: reload every\n"
      "                           --poll-interval (directories without "
      "content\n"
      "                           sync); none: no mirror, one directory "
      "search\n"
      "                           per query\n"
      "  --max-staleness DURATION keep answering from the mirror this long\n"
      "                           after losing every directory, then fail\n"
      "                           temporarily (default 5m)\n"
      "  --poll-interval DURATION reload interval for --directory-sync=poll\n"
      "                           (default 60s; less than --max-staleness)\n"
      "  --poll-change-attr ATTR  how a poll finds the entries changed since\n"
      "                           the last one: modifyTimestamp (default;\n"
      "                           OpenLDAP, 389-DS) or uSNChanged (Active\n"
      "                           Directory)\n"
      "  --poll-full-every N      read everything every Nth poll, not just\n"
      "                           the changes (default 10; also after each\n"
      "                           reconnect)\n"
      "  --map-id-attr ATTR       the attribute identifying an entry for\n"
      "                           polling (default entryUUID; objectGUID for\n"
      "                           Active Directory, nsUniqueId for 389-DS)\n"
      "\n"
      "Polling an existing tree without the dtrust schema (Active Directory,\n"
      "389-DS, FreeIPA; needs --ldap-uri and --directory-sync=poll). dtrustd\n"
      "computes the digests itself and only reads: publish, unpublish and\n"
      "domain changes are refused (use the directory's own tools):\n"
      "  --map-server-filter FILTER\n"
      "                           transport servers are the entries under\n"
      "                           --base-dn matching FILTER, e.g.\n"
      "                           (objectClass=computer)\n"
      "  --map-server-name-attr ATTR\n"
      "                           a server's DNS name (default dNSHostName)\n"
      "  --map-certificate-attr ATTR\n"
      "                           its certificates; every value is a\n"
      "                           certificate pin (default\n"
      "                           userCertificate;binary)\n"
      "  --map-domain-attr ATTR   the mail domains a server serves, or:\n"
      "  --map-domain DOMAIN      every server serves DOMAIN; repeatable\n"
      "                           (neither: servers serve no mail domain)\n"
      "  --map-domain-list-dn DN  the entry holding the Domain Security lists\n"
      "                           (like Exchange's "
      "msExchTLS*DomainSecureList)\n"
      "  --map-send-secure-attr ATTR\n"
      "                           its attribute listing the domains mail to\n"
      "                           which must be domain-secured (enforce)\n"
      "  --map-receive-secure-attr ATTR\n"
      "                           its attribute listing the domains mail from\n"
      "                           which must be domain-secured (enforce)\n"
      "\n"
      "Postfix Domain Security services (unauthenticated and read-only: keep\n"
      "them on loopback or a unix socket; unix sockets are mode 0660):\n"
      "  --policy-listen ADDR     serve policy delegation for Postfix's\n"
      "                           check_policy_service on ADDR,\n"
      "                           inet:HOST:PORT or unix:PATH; repeatable\n"
      "  --socketmap-listen ADDR  serve the socketmap for Postfix's\n"
      "                           smtp_tls_policy_maps on ADDR, as above\n"
      "  --socketmap-name NAME    answer only socketmap:...:NAME lookups\n"
      "                           (default: any name)\n"
      "\n"
      "Publishing:\n"
      "  --require-proof-for DOMAIN\n"
      "                           publish certificates for servers in or\n"
      "                           serving mail domain DOMAIN (or below it)\n"
      "                           only with proof of possession of the\n"
      "                           private key (dtrust publish --key);\n"
      "                           repeatable. Others' servers stay\n"
      "                           publishable without (\"asserted\")\n"
      "\n"
      "  --log-level LEVEL        debug, info, warning or error (default "
      "info)\n"
      "  --help                   this text\n"
      "\n"
      "Stops cleanly on SIGTERM or SIGINT. Exit status: 0 after a clean stop,\n"
      "1 when it cannot start or the directory cannot be set up, 2 on bad\n"
      "usage.\n");
}

absl::StatusOr<DtrustdOptions> ParseDtrustdOptions(
    const std::vector<std::string>& args) {
  DtrustdOptions options;
  DirectoryMapping& mapping = options.directory_mapping;
  ForeignMapping foreign;
  std::vector<std::string> poll_flags;     // Given; need the poll mode.
  std::vector<std::string> foreign_flags;  // Given; need a server filter.
  bool data_dir_given = false;
  bool listen_given = false;
  AccessFiles access_files;
  std::string password_file;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    bool has_inline_value = false;
    if (const size_t eq = flag.find('=');
        eq != std::string::npos && flag.rfind("--", 0) == 0) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_inline_value = true;
    }
    const auto take_value = [&]() -> absl::StatusOr<std::string> {
      if (has_inline_value) return value;
      if (i + 1 >= args.size()) {
        return UsageError(absl::StrCat(flag, " needs a value"));
      }
      return args[++i];
    };
    DTRUST_ASSIGN_OR_RETURN(
        const bool access_flag,
        ParseAccessFlag(flag, take_value, options, listen_given, access_files));
    if (access_flag) {
      continue;
    } else if (flag == "--help" || flag == "-h") {
      options.help = true;
    } else if (flag == "--sasl-external") {
      options.sasl_external = true;
    } else if (flag == "--ldap-starttls") {
      options.ldap_start_tls = true;
    } else if (flag == "--ldap-ca") {
      DTRUST_ASSIGN_OR_RETURN(options.ldap_ca_file, take_value());
    } else if (flag == "--data-dir") {
      DTRUST_ASSIGN_OR_RETURN(options.data_dir, take_value());
      data_dir_given = true;
    } else if (flag == "--ldap-uri") {
      DTRUST_ASSIGN_OR_RETURN(std::string uri, take_value());
      options.ldap_uris.push_back(std::move(uri));
    } else if (flag == "--base-dn") {
      DTRUST_ASSIGN_OR_RETURN(options.base_dn, take_value());
    } else if (flag == "--bind-dn") {
      DTRUST_ASSIGN_OR_RETURN(options.bind_dn, take_value());
    } else if (flag == "--bind-password-file") {
      DTRUST_ASSIGN_OR_RETURN(password_file, take_value());
    } else if (flag == "--ldap-timeout") {
      DTRUST_ASSIGN_OR_RETURN(std::string text, take_value());
      if (!absl::ParseDuration(text, &options.ldap_timeout) ||
          options.ldap_timeout <= absl::ZeroDuration()) {
        return UsageError(
            absl::StrCat("--ldap-timeout: \"", text,
                         "\" is not a positive duration such as 5s or 500ms"));
      }
    } else if (flag == "--directory-sync") {
      DTRUST_ASSIGN_OR_RETURN(std::string text, take_value());
      bool known = false;
      for (SyncMode mode :
           {SyncMode::kRefreshAndPersist, SyncMode::kPoll, SyncMode::kNone}) {
        if (text == SyncModeName(mode)) {
          options.directory_sync = mode;
          known = true;
        }
      }
      if (!known) {
        return UsageError(
            absl::StrCat("--directory-sync: \"", text,
                         "\" is not refresh-and-persist, poll or none"));
      }
    } else if (flag == "--max-staleness" || flag == "--poll-interval") {
      DTRUST_ASSIGN_OR_RETURN(std::string text, take_value());
      absl::Duration& duration = flag == "--max-staleness"
                                     ? options.max_staleness
                                     : options.poll_interval;
      if (!absl::ParseDuration(text, &duration) ||
          duration <= absl::ZeroDuration()) {
        return UsageError(
            absl::StrCat(flag, ": \"", text,
                         "\" is not a positive duration such as 5m or 30s"));
      }
    } else if (flag == "--poll-change-attr") {
      DTRUST_ASSIGN_OR_RETURN(std::string text, take_value());
      if (absl::EqualsIgnoreCase(text, "modifyTimestamp")) {
        mapping.change_attribute = ChangeAttribute::kModifyTimestamp;
      } else if (absl::EqualsIgnoreCase(text, "uSNChanged")) {
        mapping.change_attribute = ChangeAttribute::kUsnChanged;
      } else {
        return UsageError(absl::StrCat("--poll-change-attr: \"", text,
                                       "\" is not modifyTimestamp or "
                                       "uSNChanged"));
      }
      poll_flags.push_back(flag);
    } else if (flag == "--poll-full-every") {
      DTRUST_ASSIGN_OR_RETURN(std::string text, take_value());
      if (!absl::SimpleAtoi(text, &mapping.full_load_every) ||
          mapping.full_load_every < 1 || mapping.full_load_every > 1000000) {
        return UsageError(absl::StrCat("--poll-full-every: \"", text,
                                       "\" is not a number from 1 to "
                                       "1000000"));
      }
      poll_flags.push_back(flag);
    } else if (flag == "--map-id-attr" || flag == "--map-server-name-attr" ||
               flag == "--map-certificate-attr" ||
               flag == "--map-domain-attr" ||
               flag == "--map-send-secure-attr" ||
               flag == "--map-receive-secure-attr") {
      DTRUST_ASSIGN_OR_RETURN(std::string text, take_value());
      if (!IsAttributeDescription(text)) {
        return UsageError(absl::StrCat(flag, ": \"", text,
                                       "\" is not an LDAP attribute name"));
      }
      if (flag == "--map-id-attr") {
        mapping.id_attribute = std::move(text);
      } else {
        *AttributeFlag(flag, foreign) = std::move(text);
        foreign_flags.push_back(flag);
      }
      poll_flags.push_back(flag);
    } else if (flag == "--map-server-filter") {
      DTRUST_ASSIGN_OR_RETURN(foreign.server_filter, take_value());
      const std::string& filter = foreign.server_filter;
      if (filter.size() < 2 || filter.front() != '(' || filter.back() != ')') {
        return UsageError(absl::StrCat("--map-server-filter: \"", filter,
                                       "\" is not an LDAP filter in "
                                       "parentheses"));
      }
      poll_flags.push_back(flag);
    } else if (flag == "--map-domain") {
      DTRUST_ASSIGN_OR_RETURN(std::string text, take_value());
      absl::StatusOr<std::string> domain =
          NormalizeDnsName(text, "--map-domain");
      if (!domain.ok()) return UsageError(domain.status().message());
      foreign.domains.push_back(*std::move(domain));
      foreign_flags.push_back(flag);
      poll_flags.push_back(flag);
    } else if (flag == "--map-domain-list-dn") {
      DTRUST_ASSIGN_OR_RETURN(foreign.domain_list_dn, take_value());
      if (foreign.domain_list_dn.empty()) {
        return UsageError("--map-domain-list-dn is empty");
      }
      foreign_flags.push_back(flag);
      poll_flags.push_back(flag);
    } else if (flag == "--ldap-connections") {
      DTRUST_ASSIGN_OR_RETURN(std::string text, take_value());
      if (!absl::SimpleAtoi(text, &options.ldap_connections) ||
          options.ldap_connections < 1 || options.ldap_connections > 64) {
        return UsageError(absl::StrCat("--ldap-connections: \"", text,
                                       "\" is not a number from 1 to 64"));
      }
    } else if (flag == "--policy-listen" || flag == "--socketmap-listen") {
      DTRUST_ASSIGN_OR_RETURN(std::string text, take_value());
      absl::StatusOr<ListenAddress> address = ParseListenAddress(text);
      if (!address.ok()) {
        return UsageError(absl::StrCat(flag, ": ", address.status().message()));
      }
      (flag == "--policy-listen" ? options.policy_listen
                                 : options.socketmap_listen)
          .push_back(*std::move(address));
    } else if (flag == "--socketmap-name") {
      DTRUST_ASSIGN_OR_RETURN(options.socketmap_name, take_value());
      if (options.socketmap_name.empty() ||
          !std::all_of(options.socketmap_name.begin(),
                       options.socketmap_name.end(), absl::ascii_isgraph)) {
        return UsageError(
            absl::StrCat("--socketmap-name: \"", options.socketmap_name,
                         "\" is not a non-empty name without spaces"));
      }
    } else if (flag == "--require-proof-for") {
      DTRUST_ASSIGN_OR_RETURN(std::string text, take_value());
      absl::StatusOr<std::string> domain =
          NormalizeDnsName(text, "--require-proof-for");
      if (!domain.ok()) return UsageError(domain.status().message());
      options.require_proof_for.push_back(*std::move(domain));
    } else if (flag == "--log-level") {
      DTRUST_ASSIGN_OR_RETURN(std::string text, take_value());
      DTRUST_ASSIGN_OR_RETURN(options.log_level, ParseLogLevel(text));
    } else {
      return UsageError(absl::StrCat("unknown option \"", args[i], "\""));
    }
  }
  if (options.help) return options;

  DTRUST_RETURN_IF_ERROR(CheckAccess(access_files, options));
  const bool external = !options.ldap_uris.empty();
  if (external && data_dir_given) {
    return UsageError(
        "--data-dir (embedded directory) and --ldap-uri (external directory) "
        "exclude each other");
  }
  if (!external && (!options.bind_dn.empty() || !password_file.empty() ||
                    options.sasl_external)) {
    return UsageError(
        "--bind-dn, --bind-password-file and --sasl-external need --ldap-uri; "
        "the embedded directory binds by itself");
  }
  if (options.sasl_external &&
      (!options.bind_dn.empty() || !password_file.empty())) {
    return UsageError(
        "--sasl-external excludes --bind-dn/--bind-password-file");
  }
  if (options.bind_dn.empty() != password_file.empty()) {
    return UsageError("--bind-dn and --bind-password-file go together");
  }
  if (!password_file.empty()) {
    DTRUST_ASSIGN_OR_RETURN(options.bind_password,
                            ReadPasswordFile(password_file));
  }
  DTRUST_RETURN_IF_ERROR(CheckLdapTls(options));
  if (!options.socketmap_name.empty() && options.socketmap_listen.empty()) {
    return UsageError("--socketmap-name needs --socketmap-listen");
  }
  if (options.directory_sync == SyncMode::kPoll &&
      options.poll_interval >= options.max_staleness) {
    return UsageError(absl::StrCat(
        "--poll-interval (", absl::FormatDuration(options.poll_interval),
        ") must be less than --max-staleness (",
        absl::FormatDuration(options.max_staleness),
        "), or the mirror goes stale between polls"));
  }
  DTRUST_RETURN_IF_ERROR(CheckMapping(options, poll_flags, foreign_flags,
                                      std::move(foreign), &mapping));
  if (options.base_dn.empty()) options.base_dn = kDefaultEmbeddedBaseDn;
  std::sort(options.require_proof_for.begin(), options.require_proof_for.end());
  options.require_proof_for.erase(std::unique(options.require_proof_for.begin(),
                                              options.require_proof_for.end()),
                                  options.require_proof_for.end());
  return options;
}

}  // namespace dtrust
