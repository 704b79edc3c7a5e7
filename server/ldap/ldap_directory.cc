#include "server/ldap/ldap_directory.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"
#include "server/core/certificate.h"
#include "server/core/dns_name.h"
#include "server/core/log.h"
#include "server/ldap/ldap_dn.h"
#include "server/ldap/ldap_records.h"

namespace dtrust {
namespace {

void SortPins(std::vector<PinRecord>& pins) {
  std::sort(pins.begin(), pins.end(),
            [](const PinRecord& a, const PinRecord& b) {
              return a.cert_sha256 < b.cert_sha256;
            });
}

// The pins directly under `server_dn`.
absl::StatusOr<std::vector<PinRecord>> ReadPins(LdapConnection& connection,
                                                const std::string& server_dn) {
  DTRUST_ASSIGN_OR_RETURN(
      std::vector<LdapEntry> entries,
      connection.Search(server_dn, LdapScope::kOneLevel, ClassFilter(kPinClass),
                        PinAttributes()));
  return ParsePinEntries(entries);
}

// The server entry at `dn` without pins; nullopt if there is none.
absl::StatusOr<std::optional<ServerEntry>> ReadServer(
    LdapConnection& connection, const std::string& dn,
    absl::string_view servers_key) {
  absl::StatusOr<std::vector<LdapEntry>> entries = connection.Search(
      dn, LdapScope::kBase, ClassFilter(kServerClass), ServerAttributes());
  if (absl::IsNotFound(entries.status())) return std::nullopt;
  if (!entries.ok()) return entries.status();
  if (entries->empty()) return std::nullopt;
  return ParseServerEntry(entries->front(), servers_key);
}

// "(&(objectClass=<object_class>)<NameFilter(cn, name)>)".
absl::StatusOr<std::string> NamedEntryFilter(absl::string_view object_class,
                                             absl::string_view name) {
  DTRUST_ASSIGN_OR_RETURN(const std::string names, NameFilter("cn", name));
  return absl::StrCat("(&", ClassFilter(object_class), names, ")");
}

// Servers whose names normalize alike as one: domains and pins of all.
void MergeSameNamedServers(std::vector<ServerRecord>& servers) {
  std::sort(servers.begin(), servers.end(),
            [](const ServerRecord& a, const ServerRecord& b) {
              return a.name < b.name;
            });
  std::vector<ServerRecord> merged;
  for (ServerRecord& server : servers) {
    if (merged.empty() || merged.back().name != server.name) {
      merged.push_back(std::move(server));
      continue;
    }
    ServerRecord& into = merged.back();
    into.domains.insert(into.domains.end(), server.domains.begin(),
                        server.domains.end());
    into.domains = SortedUnique(std::move(into.domains));
    for (PinRecord& pin : server.pins) {
      const bool known = std::any_of(
          into.pins.begin(), into.pins.end(), [&pin](const PinRecord& other) {
            return other.cert_sha256 == pin.cert_sha256;
          });
      if (!known) into.pins.push_back(std::move(pin));
    }
    SortPins(into.pins);
  }
  servers = std::move(merged);
}

absl::Status ServerNotFound(absl::string_view server,
                            const absl::Status& status) {
  return absl::NotFoundError(absl::StrCat("server \"", server,
                                          "\" is not in the directory (",
                                          status.message(), ")"));
}

// NotFound for a search under, or an add directly below, ou=servers or
// ou=domains means that entry itself is gone, which is not the caller's
// "absent".
absl::Status ContainerGone(const std::string& container_dn,
                           const absl::Status& status) {
  return absl::InternalError(
      absl::StrCat(container_dn,
                   " vanished from the directory (restart dtrustd to recreate "
                   "it): ",
                   status.message()));
}

// The entries found searching `container_dn` (ou=servers or ou=domains)
// with `scope`, `filter` and `attributes`; NotFound there is ContainerGone.
absl::StatusOr<std::vector<LdapEntry>> SearchContainer(
    LdapConnection& connection, const std::string& container_dn,
    LdapScope scope, const std::string& filter,
    const std::vector<std::string>& attributes) {
  absl::StatusOr<std::vector<LdapEntry>> entries =
      connection.Search(container_dn, scope, filter, attributes);
  if (absl::IsNotFound(entries.status())) {
    return ContainerGone(container_dn, entries.status());
  }
  return entries;
}

// The parent DN of the pin entry `entry` as read, and its DnKey; nullopt,
// logged, if the DN does not parse.
struct ParentDn {
  std::string dn;
  std::string key;
};
std::optional<ParentDn> PinEntryParent(const LdapEntry& entry) {
  absl::StatusOr<SplitDn> split = SplitFirstRdn(entry.dn);
  absl::StatusOr<std::string> key =
      split.ok() ? DnKey(split->parent) : split.status();
  if (!key.ok()) {
    LogWarning("ignoring pinned certificate entry \"", entry.dn,
               "\": ", key.status().message());
    return std::nullopt;
  }
  return ParentDn{std::move(split->parent), *std::move(key)};
}

// A filter for the pin entries storing `cert_sha256` or `spki_sha256`
// (either may be null, not both).
absl::StatusOr<std::string> PinDigestFilter(const Sha256Digest* cert_sha256,
                                            const Sha256Digest* spki_sha256) {
  std::string alternatives;
  for (const auto& [attribute, digest] :
       {std::make_pair(kCertSha256, cert_sha256),
        std::make_pair(kSpkiSha256, spki_sha256)}) {
    if (digest == nullptr) continue;
    DTRUST_ASSIGN_OR_RETURN(std::string value,
                            EscapeFilterValue(digest->ToHex()));
    absl::StrAppend(&alternatives, "(", attribute, "=", value, ")");
  }
  return absl::StrCat("(&", ClassFilter(kPinClass), "(|", alternatives, "))");
}

// Pins grouped by their server's DN key: that DN as read, and the pins.
using PinsByServer =
    std::map<std::string, std::pair<std::string, std::vector<PinRecord>>>;

// The usable pins among `entries` whose certificate digests, recomputed
// from the certificate, are `cert_sha256` or `spki_sha256` (null matches
// nothing), grouped by server.
PinsByServer GroupMatchingPins(const std::vector<LdapEntry>& entries,
                               const Sha256Digest* cert_sha256,
                               const Sha256Digest* spki_sha256) {
  PinsByServer by_server;
  for (const LdapEntry& entry : entries) {
    std::optional<PinRecord> pin = UsablePinEntry(entry);
    if (!pin.has_value()) continue;
    // The filter matched the stored attributes; trust only the digests
    // recomputed from the certificate.
    if (!(cert_sha256 != nullptr && pin->cert_sha256 == *cert_sha256) &&
        !(spki_sha256 != nullptr && pin->spki_sha256 == *spki_sha256)) {
      continue;
    }
    std::optional<ParentDn> parent = PinEntryParent(entry);
    if (!parent.has_value()) continue;
    auto& [server_dn, pins] = by_server[parent->key];
    server_dn = std::move(parent->dn);
    pins.push_back(*std::move(pin));
  }
  return by_server;
}

// Sets the pins of every one of `servers`, read with one search of the whole
// `servers_dn`.
absl::Status ReadAllPins(LdapConnection& connection,
                         const std::string& servers_dn,
                         std::vector<ServerEntry>& servers) {
  DTRUST_ASSIGN_OR_RETURN(
      std::vector<LdapEntry> pin_entries,
      SearchContainer(connection, servers_dn, LdapScope::kSubtree,
                      ClassFilter(kPinClass), PinAttributes()));
  std::map<std::string, std::vector<LdapEntry>> by_parent;
  for (LdapEntry& entry : pin_entries) {
    std::optional<ParentDn> parent = PinEntryParent(entry);
    if (parent.has_value()) {
      by_parent[parent->key].push_back(std::move(entry));
    }
  }
  for (ServerEntry& server : servers) {
    server.record.pins = ParsePinEntries(by_parent[server.key]);
  }
  return absl::OkStatus();
}

// Creates the `containers` (each "ou=<name>,<base>") that are missing and, if
// need be, `base` (see Connect).
absl::Status EnsureBaseEntries(LdapConnection& connection,
                               const std::string& base,
                               const std::vector<std::string>& containers) {
  auto exists = [&connection](const std::string& dn) -> absl::StatusOr<bool> {
    absl::StatusOr<std::vector<LdapEntry>> found =
        connection.Search(dn, LdapScope::kBase, "(objectClass=*)", {"1.1"});
    if (absl::IsNotFound(found.status())) return false;
    if (!found.ok()) return found.status();
    return true;
  };
  auto create = [&connection](const std::string& dn,
                              const std::vector<LdapAttribute>& attributes) {
    absl::Status status = connection.Add(dn, attributes);
    if (status.ok()) LogInfo("LDAP: created ", dn);
    return absl::IsAlreadyExists(status) ? absl::OkStatus() : status;
  };

  std::vector<std::string> missing;
  for (const std::string& dn : containers) {
    DTRUST_ASSIGN_OR_RETURN(bool present, exists(dn));
    if (!present) missing.push_back(dn);
  }
  if (missing.empty()) return absl::OkStatus();
  DTRUST_ASSIGN_OR_RETURN(bool base_exists, exists(base));
  if (!base_exists) {
    DTRUST_ASSIGN_OR_RETURN(SplitDn rdn, SplitFirstRdn(base));
    const std::string type = absl::AsciiStrToLower(rdn.attribute);
    std::string object_class;
    if (type == "o") {
      object_class = "organization";
    } else if (type == "ou") {
      object_class = "organizationalUnit";
    } else if (type == "dc") {
      object_class = "domain";
    } else {
      return absl::FailedPreconditionError(absl::StrCat(
          "the LDAP base entry \"", base, "\" is missing (or not readable as ",
          connection.identity(),
          ") and dtrust only creates o=, ou= or dc= entries; create it "
          "first"));
    }
    absl::Status status =
        create(base, {{"objectClass", {object_class}}, {type, {rdn.value}}});
    if (!status.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the LDAP base entry \"", base, "\" is missing (or not readable as ",
          connection.identity(),
          ") and cannot be created (create it first): ", status.message()));
    }
  }
  for (const std::string& dn : missing) {
    DTRUST_ASSIGN_OR_RETURN(SplitDn rdn, SplitFirstRdn(dn));
    DTRUST_RETURN_IF_ERROR(create(
        dn, {{"objectClass", {"organizationalUnit"}}, {"ou", {rdn.value}}}));
  }
  return absl::OkStatus();
}

}  // namespace

LdapDirectory::LdapDirectory(const LdapOptions& options,
                             std::unique_ptr<LdapConnection> connection,
                             Container servers, Container domains)
    : servers_dn_(std::move(servers.dn)),
      servers_key_(std::move(servers.key)),
      domains_dn_(std::move(domains.dn)),
      domains_key_(std::move(domains.key)),
      pool_(options, std::move(connection)) {}

absl::StatusOr<std::unique_ptr<LdapDirectory>> LdapDirectory::Connect(
    const LdapOptions& options) {
  if (options.connections < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("LDAP connection pool size must be at least 1, not ",
                     options.connections));
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("LDAP timeout must be positive");
  }
  if (options.base_dn.empty()) {
    return absl::InvalidArgumentError("no LDAP base DN configured");
  }
  auto container =
      [&options](absl::string_view ou) -> absl::StatusOr<Container> {
    DTRUST_ASSIGN_OR_RETURN(std::string rdn, MakeRdn("ou", ou));
    Container result;
    result.dn = absl::StrCat(rdn, ",", options.base_dn);
    absl::StatusOr<std::string> key = DnKey(result.dn);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad LDAP base DN: ", key.status().message()));
    }
    result.key = *std::move(key);
    return result;
  };
  DTRUST_ASSIGN_OR_RETURN(Container servers, container("servers"));
  DTRUST_ASSIGN_OR_RETURN(Container domains, container("domains"));
  DTRUST_ASSIGN_OR_RETURN(Container clients, container("clients"));
  DTRUST_ASSIGN_OR_RETURN(Container audit, container("audit"));
  DTRUST_ASSIGN_OR_RETURN(std::unique_ptr<LdapConnection> connection,
                          LdapConnection::Open(options));
  LogInfo("LDAP: connected to ", connection->uri(), " as ",
          connection->identity(), ", base ", options.base_dn);
  DTRUST_RETURN_IF_ERROR(
      EnsureBaseEntries(*connection, options.base_dn,
                        {servers.dn, domains.dn, clients.dn, audit.dn}));
  return absl::WrapUnique(new LdapDirectory(
      options, std::move(connection), std::move(servers), std::move(domains)));
}

absl::StatusOr<std::string> LdapDirectory::ServerDn(
    absl::string_view name) const {
  DTRUST_ASSIGN_OR_RETURN(std::string rdn, MakeRdn("cn", name));
  return absl::StrCat(rdn, ",", servers_dn_);
}

absl::StatusOr<std::string> LdapDirectory::PinRdn(
    const Sha256Digest& cert_sha256) {
  return MakeRdn(kCertSha256, cert_sha256.ToHex());
}

absl::StatusOr<std::string> LdapDirectory::DomainDn(
    absl::string_view domain) const {
  DTRUST_ASSIGN_OR_RETURN(std::string rdn, MakeRdn("cn", domain));
  return absl::StrCat(rdn, ",", domains_dn_);
}

absl::StatusOr<std::vector<ServerRecord>> LdapDirectory::FindByDigest(
    const Sha256Digest* cert_sha256, const Sha256Digest* spki_sha256) {
  if (cert_sha256 == nullptr && spki_sha256 == nullptr) {
    return std::vector<ServerRecord>();
  }
  DTRUST_ASSIGN_OR_RETURN(const std::string filter,
                          PinDigestFilter(cert_sha256, spki_sha256));
  std::vector<ServerRecord> result;
  DTRUST_RETURN_IF_ERROR(pool_.Run(
      LdapPool::Retry::kOnceIfStale,
      [&](LdapConnection& connection) -> absl::Status {
        DTRUST_ASSIGN_OR_RETURN(
            const std::vector<LdapEntry> entries,
            SearchContainer(connection, servers_dn_, LdapScope::kSubtree,
                            filter, PinAttributes()));
        std::vector<ServerRecord> found;
        for (auto& [key, server_pins] :
             GroupMatchingPins(entries, cert_sha256, spki_sha256)) {
          auto& [server_dn, pins] = server_pins;
          DTRUST_ASSIGN_OR_RETURN(
              std::optional<ServerEntry> server,
              ReadServer(connection, server_dn, servers_key_));
          if (!server.has_value()) {
            LogWarning("ignoring ", pins.size(),
                       " pinned certificate(s) under \"", server_dn,
                       "\": not a transport server entry");
            continue;
          }
          SortPins(pins);
          server->record.pins = std::move(pins);
          found.push_back(std::move(server->record));
        }
        MergeSameNamedServers(found);
        result = std::move(found);
        return absl::OkStatus();
      }));
  return result;
}

absl::StatusOr<std::optional<ServerRecord>> LdapDirectory::GetServer(
    absl::string_view name) {
  DTRUST_RETURN_IF_ERROR(ServerDn(name).status());
  const absl::StatusOr<std::string> wanted = NormalizeDnsName(name, "server");
  // Entries whose names are no DNS names are never read as servers.
  if (!wanted.ok()) return std::nullopt;
  DTRUST_ASSIGN_OR_RETURN(const std::string filter,
                          NamedEntryFilter(kServerClass, *wanted));
  std::optional<ServerRecord> result;
  DTRUST_RETURN_IF_ERROR(pool_.Run(
      LdapPool::Retry::kOnceIfStale,
      [&](LdapConnection& connection) -> absl::Status {
        DTRUST_ASSIGN_OR_RETURN(
            const std::vector<LdapEntry> entries,
            SearchContainer(connection, servers_dn_, LdapScope::kOneLevel,
                            filter, ServerAttributes()));
        std::vector<ServerRecord> found;
        for (const LdapEntry& entry : entries) {
          std::optional<ServerEntry> server =
              ParseServerEntry(entry, servers_key_);
          if (!server.has_value() || server->record.name != *wanted) continue;
          DTRUST_ASSIGN_OR_RETURN(server->record.pins,
                                  ReadPins(connection, server->dn));
          found.push_back(std::move(server->record));
        }
        MergeSameNamedServers(found);
        result.reset();
        if (!found.empty()) result = std::move(found.front());
        return absl::OkStatus();
      }));
  return result;
}

absl::StatusOr<std::vector<ServerRecord>> LdapDirectory::ListServers(
    const ServerFilter& filter) {
  if (!filter.server.empty()) {
    DTRUST_ASSIGN_OR_RETURN(std::optional<ServerRecord> server,
                            GetServer(filter.server));
    std::vector<ServerRecord> result;
    if (server.has_value() &&
        (filter.domain.empty() ||
         std::binary_search(server->domains.begin(), server->domains.end(),
                            filter.domain))) {
      result.push_back(*std::move(server));
    }
    return result;
  }
  std::string server_filter = ClassFilter(kServerClass);
  if (!filter.domain.empty()) {
    DTRUST_ASSIGN_OR_RETURN(const std::string domains,
                            NameFilter(kMailDomain, filter.domain));
    server_filter = absl::StrCat("(&", server_filter, domains, ")");
  }
  std::vector<ServerRecord> result;
  DTRUST_RETURN_IF_ERROR(pool_.Run(
      LdapPool::Retry::kOnceIfStale,
      [&](LdapConnection& connection) -> absl::Status {
        DTRUST_ASSIGN_OR_RETURN(
            const std::vector<LdapEntry> entries,
            SearchContainer(connection, servers_dn_, LdapScope::kOneLevel,
                            server_filter, ServerAttributes()));
        std::vector<ServerEntry> servers;
        for (const LdapEntry& entry : entries) {
          std::optional<ServerEntry> server =
              ParseServerEntry(entry, servers_key_);
          // The filter found the domain as stored; match it normalized.
          if (server.has_value() &&
              (filter.domain.empty() ||
               std::binary_search(server->record.domains.begin(),
                                  server->record.domains.end(),
                                  filter.domain))) {
            servers.push_back(*std::move(server));
          }
        }
        if (!filter.domain.empty()) {
          // Few servers per domain: read their pins one by one.
          for (ServerEntry& server : servers) {
            DTRUST_ASSIGN_OR_RETURN(server.record.pins,
                                    ReadPins(connection, server.dn));
          }
        } else {
          // Everything: one search for all pins, sorted out by parent.
          DTRUST_RETURN_IF_ERROR(ReadAllPins(connection, servers_dn_, servers));
        }
        std::vector<ServerRecord> records;
        for (ServerEntry& server : servers) {
          records.push_back(std::move(server.record));
        }
        MergeSameNamedServers(records);
        result = std::move(records);
        return absl::OkStatus();
      }));
  return result;
}

absl::Status LdapDirectory::CreateServer(
    absl::string_view name, const std::vector<std::string>& domains) {
  DTRUST_ASSIGN_OR_RETURN(std::string dn, ServerDn(name));
  std::vector<LdapAttribute> attributes = {
      {"objectClass", {std::string(kServerClass)}},
      {"cn", {std::string(name)}}};
  std::vector<std::string> unique_domains = SortedUnique(domains);
  if (!unique_domains.empty()) {
    attributes.push_back({std::string(kMailDomain), unique_domains});
  }
  return pool_.Run(LdapPool::Retry::kNever,
                   [&](LdapConnection& connection) -> absl::Status {
                     absl::Status status = connection.Add(dn, attributes);
                     if (absl::IsNotFound(status)) {
                       return ContainerGone(servers_dn_, status);
                     }
                     return status;
                   });
}

absl::Status LdapDirectory::AddDomains(
    absl::string_view server, const std::vector<std::string>& domains) {
  DTRUST_ASSIGN_OR_RETURN(std::string dn, ServerDn(server));
  const std::vector<std::string> wanted = SortedUnique(domains);
  return pool_.Run(
      LdapPool::Retry::kNever, [&](LdapConnection& connection) -> absl::Status {
        return WriteAnySpelling(
            connection, server, dn, [&](const std::string& server_dn) {
              return AddMissingDomains(connection, server, server_dn, wanted);
            });
      });
}

absl::Status LdapDirectory::AddMissingDomains(
    LdapConnection& connection, absl::string_view server, const std::string& dn,
    const std::vector<std::string>& wanted) {
  // A concurrent writer may add one of ours between read and modify
  // ("value exists"): read again, a few times at most.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<std::vector<LdapEntry>> entries =
        connection.Search(dn, LdapScope::kBase, ClassFilter(kServerClass),
                          {std::string(kMailDomain)});
    if (absl::IsNotFound(entries.status())) {
      return ServerNotFound(server, entries.status());
    }
    if (!entries.ok()) return entries.status();
    if (entries->empty()) {
      return absl::NotFoundError(
          absl::StrCat("\"", dn, "\" is not a transport server entry"));
    }
    std::vector<std::string> present;
    for (const std::string& domain : entries->front().Values(kMailDomain)) {
      present.push_back(absl::AsciiStrToLower(domain));
    }
    std::sort(present.begin(), present.end());
    std::vector<std::string> missing;
    for (const std::string& domain : wanted) {
      if (!std::binary_search(present.begin(), present.end(),
                              absl::AsciiStrToLower(domain))) {
        missing.push_back(domain);
      }
    }
    if (missing.empty()) return absl::OkStatus();
    absl::Status status = connection.Modify(
        dn, {{LdapModification::Op::kAdd,
              {std::string(kMailDomain), std::move(missing)}}});
    if (absl::IsNotFound(status)) return ServerNotFound(server, status);
    if (!absl::IsAlreadyExists(status) || attempt == kAttempts) {
      return status;
    }
  }
}

absl::Status LdapDirectory::AddPin(absl::string_view server,
                                   const PinRecord& pin) {
  absl::StatusOr<Certificate> certificate = Certificate::FromDer(pin.der);
  if (!certificate.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pin for \"", server,
                     "\": bad certificate: ", certificate.status().message()));
  }
  if (certificate->sha256() != pin.cert_sha256 ||
      certificate->spki_sha256() != pin.spki_sha256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pin for \"", server, "\": digests ", pin.cert_sha256.ToHex(), " / ",
        pin.spki_sha256.ToHex(), " do not match its certificate (",
        certificate->sha256().ToHex(), " / ",
        certificate->spki_sha256().ToHex(), ")"));
  }
  DTRUST_ASSIGN_OR_RETURN(const std::string server_dn, ServerDn(server));
  std::vector<LdapAttribute> attributes = {
      {"objectClass", {std::string(kPinClass)}},
      {std::string(kCertSha256), {pin.cert_sha256.ToHex()}},
      {std::string(kSpkiSha256), {pin.spki_sha256.ToHex()}},
      {std::string(kPinKind), {std::string(PinKindName(pin.kind))}},
      {std::string(kCertificate), {pin.der}}};
  for (std::vector<LdapAttribute> optional :
       {PinWindowAttributes(pin.window), PinProvenanceAttributes(pin)}) {
    for (LdapAttribute& attribute : optional) {
      if (!attribute.values.empty()) attributes.push_back(std::move(attribute));
    }
  }
  DTRUST_ASSIGN_OR_RETURN(const std::string rdn, PinRdn(pin.cert_sha256));
  return pool_.Run(
      LdapPool::Retry::kNever, [&](LdapConnection& connection) -> absl::Status {
        return WriteAnySpelling(
            connection, server, server_dn,
            [&](const std::string& entry_dn) -> absl::Status {
              absl::Status status =
                  connection.Add(absl::StrCat(rdn, ",", entry_dn), attributes);
              if (absl::IsNotFound(status)) {
                return ServerNotFound(server, status);
              }
              return status;
            });
      });
}

absl::Status LdapDirectory::UpdatePin(absl::string_view server,
                                      const PinRecord& pin) {
  DTRUST_ASSIGN_OR_RETURN(const std::string server_dn, ServerDn(server));
  std::vector<LdapModification> modifications = {
      {LdapModification::Op::kReplace,
       {std::string(kPinKind), {std::string(PinKindName(pin.kind))}}}};
  // Replacing with no value removes the attribute (RFC 4511 4.6).
  for (std::vector<LdapAttribute> replaced :
       {PinWindowAttributes(pin.window), PinProvenanceAttributes(pin)}) {
    for (LdapAttribute& attribute : replaced) {
      modifications.push_back(
          {LdapModification::Op::kReplace, std::move(attribute)});
    }
  }
  DTRUST_ASSIGN_OR_RETURN(const std::string rdn, PinRdn(pin.cert_sha256));
  return pool_.Run(
      LdapPool::Retry::kNever, [&](LdapConnection& connection) -> absl::Status {
        return WriteAnySpelling(
            connection, server, server_dn, [&](const std::string& entry_dn) {
              return connection.Modify(absl::StrCat(rdn, ",", entry_dn),
                                       modifications);
            });
      });
}

absl::StatusOr<std::vector<std::string>> LdapDirectory::ServerEntryDns(
    LdapConnection& connection, absl::string_view name) {
  DTRUST_ASSIGN_OR_RETURN(const std::string filter,
                          NamedEntryFilter(kServerClass, name));
  DTRUST_ASSIGN_OR_RETURN(
      const std::vector<LdapEntry> entries,
      SearchContainer(connection, servers_dn_, LdapScope::kOneLevel, filter,
                      {"cn"}));
  std::vector<std::string> dns;
  for (const LdapEntry& entry : entries) {
    if (ServerEntryName(entry.dn, servers_key_) == name) {
      dns.push_back(entry.dn);
    }
  }
  return dns;
}

absl::StatusOr<std::vector<std::string>> LdapDirectory::EverySpelling(
    LdapConnection& connection, absl::string_view name, const std::string& dn) {
  std::vector<std::string> dns = {dn};
  const absl::StatusOr<std::string> wanted = NormalizeDnsName(name, "server");
  if (!wanted.ok()) return dns;  // No other tool's spelling can match it.
  DTRUST_ASSIGN_OR_RETURN(const std::string key, DnKey(dn));
  DTRUST_ASSIGN_OR_RETURN(const std::vector<std::string> spellings,
                          ServerEntryDns(connection, *wanted));
  for (const std::string& spelling : spellings) {
    if (DnKey(spelling).value_or(key) != key) dns.push_back(spelling);
  }
  return dns;
}

absl::Status LdapDirectory::WriteAnySpelling(
    LdapConnection& connection, absl::string_view name, const std::string& dn,
    const std::function<absl::Status(const std::string& server_dn)>& write) {
  const absl::Status status = write(dn);
  if (!absl::IsNotFound(status)) return status;
  DTRUST_ASSIGN_OR_RETURN(const std::vector<std::string> servers,
                          EverySpelling(connection, name, dn));
  for (size_t i = 1; i < servers.size(); ++i) {  // servers[0] is `dn`.
    const absl::Status other = write(servers[i]);
    if (!absl::IsNotFound(other)) return other;
  }
  return status;
}

absl::Status LdapDirectory::RemovePin(absl::string_view server,
                                      const Sha256Digest& cert_sha256) {
  DTRUST_ASSIGN_OR_RETURN(const std::string server_dn, ServerDn(server));
  DTRUST_ASSIGN_OR_RETURN(const std::string rdn, PinRdn(cert_sha256));
  return pool_.Run(
      LdapPool::Retry::kNever, [&](LdapConnection& connection) -> absl::Status {
        // The pin below cn=<server> and below every other spelling's entry.
        DTRUST_ASSIGN_OR_RETURN(const std::vector<std::string> servers,
                                EverySpelling(connection, server, server_dn));
        absl::Status result = absl::NotFoundError(absl::StrCat(
            "no pin ", cert_sha256.ToHex(), " below \"", server_dn, "\""));
        for (const std::string& parent : servers) {
          const absl::Status status =
              connection.Delete(absl::StrCat(rdn, ",", parent));
          if (!status.ok() && !absl::IsNotFound(status)) return status;
          if (status.ok()) result = absl::OkStatus();
        }
        return result;
      });
}

absl::Status LdapDirectory::RemoveServer(absl::string_view name) {
  DTRUST_ASSIGN_OR_RETURN(const std::string dn, ServerDn(name));
  return pool_.Run(
      LdapPool::Retry::kNever, [&](LdapConnection& connection) -> absl::Status {
        // cn=<name> as given, and every other spelling's entry.
        DTRUST_ASSIGN_OR_RETURN(const std::vector<std::string> servers,
                                EverySpelling(connection, name, dn));
        absl::Status result = absl::NotFoundError(
            absl::StrCat("server \"", name, "\" is not in the directory"));
        for (const std::string& server : servers) {
          const absl::Status status = connection.Delete(server);
          if (!status.ok() && !absl::IsNotFound(status)) return status;
          if (status.ok()) result = absl::OkStatus();
        }
        return result;
      });
}

absl::StatusOr<std::vector<DomainPolicy>> LdapDirectory::ListDomainPolicies() {
  std::vector<DomainPolicy> result;
  DTRUST_RETURN_IF_ERROR(pool_.Run(
      LdapPool::Retry::kOnceIfStale,
      [&](LdapConnection& connection) -> absl::Status {
        DTRUST_ASSIGN_OR_RETURN(
            const std::vector<LdapEntry> entries,
            SearchContainer(connection, domains_dn_, LdapScope::kOneLevel,
                            ClassFilter(kDomainClass), DomainAttributes()));
        std::vector<DomainPolicy> policies;
        for (const LdapEntry& entry : entries) {
          std::optional<DomainPolicy> policy =
              ParseDomainEntry(entry, domains_key_);
          if (policy.has_value()) policies.push_back(*std::move(policy));
        }
        result = MergeDomainPolicies(std::move(policies));
        return absl::OkStatus();
      }));
  return result;
}

absl::StatusOr<std::optional<DomainPolicy>> LdapDirectory::GetDomainPolicy(
    absl::string_view domain) {
  DTRUST_RETURN_IF_ERROR(DomainDn(domain).status());
  const absl::StatusOr<std::string> wanted =
      NormalizeDnsName(domain, "mail domain");
  // Entries whose names are no DNS names are never read as policies.
  if (!wanted.ok()) return std::nullopt;
  DTRUST_ASSIGN_OR_RETURN(const std::string filter,
                          NamedEntryFilter(kDomainClass, *wanted));
  std::optional<DomainPolicy> result;
  DTRUST_RETURN_IF_ERROR(pool_.Run(
      LdapPool::Retry::kOnceIfStale,
      [&](LdapConnection& connection) -> absl::Status {
        DTRUST_ASSIGN_OR_RETURN(
            const std::vector<LdapEntry> entries,
            SearchContainer(connection, domains_dn_, LdapScope::kOneLevel,
                            filter, DomainAttributes()));
        std::vector<DomainPolicy> policies;
        for (const LdapEntry& entry : entries) {
          std::optional<DomainPolicy> policy =
              ParseDomainEntry(entry, domains_key_);
          if (policy.has_value() && policy->domain == *wanted) {
            policies.push_back(*std::move(policy));
          }
        }
        policies = MergeDomainPolicies(std::move(policies));
        result.reset();
        if (!policies.empty()) result = std::move(policies.front());
        return absl::OkStatus();
      }));
  return result;
}

absl::StatusOr<std::vector<std::string>> LdapDirectory::DomainEntryDns(
    LdapConnection& connection, absl::string_view domain) {
  DTRUST_ASSIGN_OR_RETURN(const std::string filter,
                          NamedEntryFilter(kDomainClass, domain));
  DTRUST_ASSIGN_OR_RETURN(
      const std::vector<LdapEntry> entries,
      SearchContainer(connection, domains_dn_, LdapScope::kOneLevel, filter,
                      {"cn"}));
  std::vector<std::string> dns;
  for (const LdapEntry& entry : entries) {
    if (DomainEntryName(entry.dn, domains_key_) == domain) {
      dns.push_back(entry.dn);
    }
  }
  return dns;
}

absl::Status LdapDirectory::PutDomainPolicy(const DomainPolicy& policy) {
  if (policy.send == SecureMode::kOff && policy.receive == SecureMode::kOff) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Domain Security policy for \"", policy.domain,
        "\" has both directions off; remove the domain from the lists "
        "instead"));
  }
  DTRUST_ASSIGN_OR_RETURN(std::string dn, DomainDn(policy.domain));
  DTRUST_ASSIGN_OR_RETURN(const std::string key, DnKey(dn));
  const std::vector<LdapAttribute> directions = DomainPolicyAttributes(policy);
  std::vector<LdapAttribute> entry = {
      {"objectClass", {std::string(kDomainClass)}}, {"cn", {policy.domain}}};
  std::vector<LdapModification> replace;
  for (const LdapAttribute& direction : directions) {
    if (!direction.values.empty()) entry.push_back(direction);
    // Replacing with no value removes the attribute (RFC 4511 4.6).
    replace.push_back({LdapModification::Op::kReplace, direction});
  }
  return pool_.Run(
      LdapPool::Retry::kNever, [&](LdapConnection& connection) -> absl::Status {
        DTRUST_RETURN_IF_ERROR(ReplaceOrAdd(connection, dn, replace, entry));
        // The policy is this entry's alone: entries other tools wrote for
        // the same domain (another spelling) would merge into it, stricter.
        DTRUST_ASSIGN_OR_RETURN(const std::vector<std::string> dns,
                                DomainEntryDns(connection, policy.domain));
        for (const std::string& other : dns) {
          if (DnKey(other).value_or(key) == key) continue;
          absl::Status deleted = connection.Delete(other);
          if (!deleted.ok() && !absl::IsNotFound(deleted)) return deleted;
        }
        return absl::OkStatus();
      });
}

absl::Status LdapDirectory::ReplaceOrAdd(
    LdapConnection& connection, const std::string& dn,
    const std::vector<LdapModification>& replace,
    const std::vector<LdapAttribute>& entry) {
  // Replace, else create. A concurrent remove or create may come in
  // between: try again, a few times at most.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    absl::Status status = connection.Modify(dn, replace);
    if (!absl::IsNotFound(status)) return status;
    status = connection.Add(dn, entry);
    if (absl::IsNotFound(status)) return ContainerGone(domains_dn_, status);
    if (!absl::IsAlreadyExists(status) || attempt == kAttempts) return status;
  }
}

absl::Status LdapDirectory::RemoveDomainPolicy(absl::string_view domain) {
  DTRUST_ASSIGN_OR_RETURN(const std::string dn, DomainDn(domain));
  const absl::StatusOr<std::string> wanted =
      NormalizeDnsName(domain, "mail domain");
  return pool_.Run(
      LdapPool::Retry::kNever, [&](LdapConnection& connection) -> absl::Status {
        // cn=<domain> as given, and every other spelling's entry.
        std::vector<std::string> dns = {dn};
        if (wanted.ok()) {
          DTRUST_ASSIGN_OR_RETURN(std::vector<std::string> spellings,
                                  DomainEntryDns(connection, *wanted));
          dns.insert(dns.end(), spellings.begin(), spellings.end());
        }
        bool removed = false;
        for (const std::string& entry : dns) {
          absl::Status status = connection.Delete(entry);
          if (!status.ok() && !absl::IsNotFound(status)) return status;
          removed = removed || status.ok();
        }
        if (!removed) {
          return absl::NotFoundError(absl::StrCat(
              "domain \"", domain, "\" is on no Domain Security list"));
        }
        return absl::OkStatus();
      });
}

}  // namespace dtrust
