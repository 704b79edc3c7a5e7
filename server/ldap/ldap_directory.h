// The Directory (server/core/directory.h) stored in LDAP, laid out as:
//
//   ou=servers,<base>                                 organizationalUnit
//   cn=<fqdn>,ou=servers,<base>                       dtrustTransportServer
//     (cn, dtrustMailDomain*)
//   dtrustCertSha256=<hex>,cn=<fqdn>,ou=servers,<base> dtrustPinnedCertificate
//     (dtrustCertSha256, dtrustSpkiSha256, dtrustPinKind,
//      userCertificate;binary, dtrustPinNotBefore?, dtrustPinNotAfter?:
//      the pin window, GeneralizedTime)
//   ou=domains,<base>                                 organizationalUnit
//   cn=<domain>,ou=domains,<base>                     dtrustSecureDomain
//     (cn, dtrustSendSecurity?, dtrustReceiveSecurity?: "enforce" | "testing";
//      absent = that direction is off)
//
// Matching is always on the digest attributes, never on userCertificate
// (OpenLDAP compares certificates by issuer and serial only). Every pin read
// is re-verified: its DER is parsed and both digests recomputed; an entry
// whose stored digests disagree (or that is otherwise malformed) is logged as
// a warning naming its DN and skipped, never trusted.
//
// Domain Security entries fail closed: a direction attribute with a value
// other than "enforce" or "testing" is logged and read as enforce (see
// ParseDomainEntry in ldap_records.h). An entry with neither attribute puts
// its domain on no list: Get/ListDomainPolicies do not report it, while
// RemoveDomainPolicy deletes it.
//
// Entries other tools wrote (ldapadd) are read by the name the CLI uses
// (NormalizeDirectoryName, ldap_records.h: no trailing dot, lower case, no
// surrounding spaces); an entry whose name is no DNS name (a U-label, say)
// is logged, naming its DN, and skipped. GetServer and GetDomainPolicy find
// every entry whose name normalizes to the one asked for, and entries that
// normalize alike are read as one: a server with the domains and pins of
// all, a domain with the stricter mode in each direction
// (MergeDomainPolicies). Writes address cn=<name> as given, except for
// Domain Security and removals: PutDomainPolicy writes cn=<domain> and
// deletes the other spellings' entries (whose modes would otherwise merge
// in, stricter); RemoveDomainPolicy, RemovePin and RemoveServer delete every
// spelling's entry, so what the CLI sets or removes is what every reader
// then sees.
#ifndef DTRUST_SERVER_LDAP_LDAP_DIRECTORY_H_
#define DTRUST_SERVER_LDAP_LDAP_DIRECTORY_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/core/digest.h"
#include "server/core/directory.h"
#include "server/ldap/ldap_connection.h"
#include "server/ldap/ldap_pool.h"

namespace dtrust {

// Thread-safe: runs on an LdapPool (ldap_pool.h), which reconnects and fails
// over. A call on a lost connection returns Unavailable; reads that failed
// only because a pooled connection had gone stale are retried once, writes
// never. Every call is bounded by about the configured timeout per step
// (connect, bind, operation), so a down directory yields Unavailable quickly
// and never "absent".
//
// Errors follow the Directory contract; additionally InvalidArgument for
// values that cannot be stored (an empty name, a PinRecord whose digests do
// not match its DER).
class LdapDirectory : public Directory {
 public:
  // Binds (to the first URI that accepts) and makes sure the base entries
  // exist: creates `ou=servers,<base>`, `ou=domains,<base>` and
  // `ou=clients,<base>` (client grants, ldap_grant_store.h) and
  // `ou=audit,<base>` (the audit trail, ldap_audit_store.h) if missing
  // (so a directory set up before the Domain Security lists existed gets
  // ou=domains on the next start), and the base entry itself
  // if missing and its RDN is o=, ou= or dc= (objectClass organization,
  // organizationalUnit or domain). Unavailable if no URI answers;
  // FailedPrecondition if the base entry is missing and cannot be created;
  // InvalidArgument for bad options.
  static absl::StatusOr<std::unique_ptr<LdapDirectory>> Connect(
      const LdapOptions& options);

  absl::StatusOr<std::vector<ServerRecord>> FindByDigest(
      const Sha256Digest* cert_sha256,
      const Sha256Digest* spki_sha256) override;
  absl::StatusOr<std::optional<ServerRecord>> GetServer(
      absl::string_view name) override;
  absl::StatusOr<std::vector<ServerRecord>> ListServers(
      const ServerFilter& filter) override;
  absl::Status CreateServer(absl::string_view name,
                            const std::vector<std::string>& domains) override;
  absl::Status AddDomains(absl::string_view server,
                          const std::vector<std::string>& domains) override;
  absl::Status AddPin(absl::string_view server, const PinRecord& pin) override;
  absl::Status UpdatePin(absl::string_view server,
                         const PinRecord& pin) override;
  absl::Status RemovePin(absl::string_view server,
                         const Sha256Digest& cert_sha256) override;
  absl::Status RemoveServer(absl::string_view name) override;

  absl::StatusOr<std::vector<DomainPolicy>> ListDomainPolicies() override;
  absl::StatusOr<std::optional<DomainPolicy>> GetDomainPolicy(
      absl::string_view domain) override;
  // Writes both directions: an attribute whose direction is kOff is removed.
  absl::Status PutDomainPolicy(const DomainPolicy& policy) override;
  absl::Status RemoveDomainPolicy(absl::string_view domain) override;

  // The URI of the most recently opened connection, for logs.
  std::string connected_uri() const { return pool_.connected_uri(); }

 private:
  // A container entry below the base and its DnKey (ldap_records.h).
  struct Container {
    std::string dn{};
    std::string key{};
  };

  LdapDirectory(const LdapOptions& options,
                std::unique_ptr<LdapConnection> connection, Container servers,
                Container domains);

  absl::StatusOr<std::string> ServerDn(absl::string_view name) const;
  // The RDN of a pin entry below its server's entry.
  static absl::StatusOr<std::string> PinRdn(const Sha256Digest& cert_sha256);
  absl::StatusOr<std::string> DomainDn(absl::string_view domain) const;
  // The DNs of the Domain Security entries standing for `domain`
  // (normalized): the one dtrust writes and any other tool's spelling of
  // the same name (trailing dot, case, surrounding spaces).
  absl::StatusOr<std::vector<std::string>> DomainEntryDns(
      LdapConnection& connection, absl::string_view domain);
  // Likewise the server entries standing for server `name` (normalized).
  absl::StatusOr<std::vector<std::string>> ServerEntryDns(
      LdapConnection& connection, absl::string_view name);
  // `dn` (cn=<name> as given, whether or not it exists) and the DNs of the
  // other server entries standing for `name` (ServerEntryDns, if `name`
  // normalizes), each once.
  absl::StatusOr<std::vector<std::string>> EverySpelling(
      LdapConnection& connection, absl::string_view name,
      const std::string& dn);
  // Runs `write` on the server entry `dn` (cn=<name> as given); when it
  // answers NotFound (no such entry), on each other spelling's entry of the
  // same server (EverySpelling) until one answers otherwise: a write reaches
  // a server whose only entry another tool spelled differently. Returns the
  // first answer other than NotFound, else `dn`'s.
  absl::Status WriteAnySpelling(
      LdapConnection& connection, absl::string_view name, const std::string& dn,
      const std::function<absl::Status(const std::string& server_dn)>& write);
  // Adds the domains of `wanted` that the server entry `dn` lacks.
  absl::Status AddMissingDomains(LdapConnection& connection,
                                 absl::string_view server,
                                 const std::string& dn,
                                 const std::vector<std::string>& wanted);
  // Modifies `dn` with `replace`, or adds it as `entry` if it is missing.
  absl::Status ReplaceOrAdd(LdapConnection& connection, const std::string& dn,
                            const std::vector<LdapModification>& replace,
                            const std::vector<LdapAttribute>& entry);

  const std::string servers_dn_;   // "ou=servers,<base>".
  const std::string servers_key_;  // Its DnKey (ldap_records.h).
  const std::string domains_dn_;   // "ou=domains,<base>".
  const std::string domains_key_;  // Its DnKey.
  LdapPool pool_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_DIRECTORY_H_
