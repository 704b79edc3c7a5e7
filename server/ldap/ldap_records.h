// The dtrust schema names (deploy/ldap/dtrust.schema) and the conversion of
// LDAP entries into Directory records, including the verification every pin
// entry must pass before it is trusted and the fail-closed reading of
// Domain Security entries.
#ifndef DTRUST_SERVER_LDAP_LDAP_RECORDS_H_
#define DTRUST_SERVER_LDAP_LDAP_RECORDS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/core/directory.h"
#include "server/ldap/ldap_connection.h"

namespace dtrust {

inline constexpr absl::string_view kServerClass = "dtrustTransportServer";
inline constexpr absl::string_view kPinClass = "dtrustPinnedCertificate";
inline constexpr absl::string_view kCertSha256 = "dtrustCertSha256";
inline constexpr absl::string_view kSpkiSha256 = "dtrustSpkiSha256";
inline constexpr absl::string_view kPinKind = "dtrustPinKind";
inline constexpr absl::string_view kPinNotBefore = "dtrustPinNotBefore";
inline constexpr absl::string_view kPinNotAfter = "dtrustPinNotAfter";
inline constexpr absl::string_view kPinProvenance = "dtrustPinProvenance";
inline constexpr absl::string_view kPinPublisher = "dtrustPinPublisher";
inline constexpr absl::string_view kMailDomain = "dtrustMailDomain";
inline constexpr absl::string_view kCertificate = "userCertificate;binary";
inline constexpr absl::string_view kDomainClass = "dtrustSecureDomain";
inline constexpr absl::string_view kSendSecurity = "dtrustSendSecurity";
inline constexpr absl::string_view kReceiveSecurity = "dtrustReceiveSecurity";

// The attributes to request for server, pin and domain entries.
const std::vector<std::string>& ServerAttributes();
const std::vector<std::string>& PinAttributes();
const std::vector<std::string>& DomainAttributes();

// "(objectClass=<object_class>)".
std::string ClassFilter(absl::string_view object_class);

// Entries written by other tools (ldapadd): a name read from the directory
// - the RDN value of a server, pin or domain entry, a dtrustMailDomain value
// - is `value` without surrounding white space (insignificant to LDAP's
// matching, so the directory itself finds such an entry by the bare name),
// normalized as the CLI normalizes names: NormalizeDnsName (dns_name.h), so
// upper case and a trailing dot are dropped. InvalidArgument naming `what`
// for anything else (a U-label, a space or other character inside): the
// CLI rejects such a name, so no query could match it.
absl::StatusOr<std::string> NormalizeDirectoryName(absl::string_view value,
                                                   absl::string_view what);

// The values of `attribute` of the entry named `dn` that
// NormalizeDirectoryName accepts, normalized, sorted and unique; each other
// value is logged as a warning naming the DN and skipped.
std::vector<std::string> DirectoryDnsNames(
    absl::string_view dn, absl::string_view attribute,
    const std::vector<std::string>& values);

// A filter for the entries whose `attribute` may name the normalized name
// `name`: "(|(<attribute>=<name>)(<attribute>=<name>.))", the value
// escaped. The equality rules of cn and dtrust's attributes ignore case and
// surrounding spaces, so this finds every entry NormalizeDirectoryName maps
// to `name`. InvalidArgument if `name` cannot be put in a filter.
absl::StatusOr<std::string> NameFilter(absl::string_view attribute,
                                       absl::string_view name);

// Key for comparing DNs read from the server: canonical escaping, ASCII
// lower case (all RDN types dtrust uses - cn, ou, o, dc and the digests -
// match case-insensitively). InvalidArgument if `dn` does not parse.
absl::StatusOr<std::string> DnKey(absl::string_view dn);

// `values` sorted, duplicates removed.
std::vector<std::string> SortedUnique(std::vector<std::string> values);

// `time` as an LDAP GeneralizedTime in UTC: "20261201000000Z", with a
// fraction of a second only when there is one ("20261201000000.25Z").
std::string ToGeneralizedTime(absl::Time time);
// Parses any GeneralizedTime RFC 4517 (3.3.13) allows: YYYYMMDDHH, optional
// minutes and seconds (60 for a leap second), an optional fraction of the
// last unit given ('.' or ','), then "Z" or an offset +HH[MM] / -HH[MM].
// nullopt for anything else, or a date or time that does not exist.
std::optional<absl::Time> ParseGeneralizedTime(absl::string_view text);

// The pin stored in `entry` (read with PinAttributes()), with `der` set; or
// InvalidArgument saying why the entry is unusable: it is malformed or its
// digest attributes disagree with the certificate it stores (both digests
// are recomputed from the DER). A pin window bound that is not a
// GeneralizedTime also makes the entry unusable: such a pin is never
// trusted, rather than trusted without its window. Without
// dtrustPinProvenance (entries from before dtrust recorded it) the pin is
// kAsserted; a value other than "asserted" or "possession-proven" is logged
// and read as kAsserted too, as provenance never makes a pin trusted. The
// publisher is dtrustPinPublisher, or empty.
// kMatching (for the mirror) leaves `der` and `subject` empty and reads the
// certificate with Certificate::MatchingFacts, falling back to the full
// parse whenever that disagrees with the stored digests. The digests and
// dates are always those of the stored bytes; the one difference: a value
// whose structure reaches the SubjectPublicKeyInfo but that FromDer would
// refuse further on is accepted (only an entry written around dtrustd can
// hold one, and its writer could as well store any real certificate).
enum class PinDetail { kFull, kMatching };
absl::StatusOr<PinRecord> ParsePinEntry(const LdapEntry& entry,
                                        PinDetail detail = PinDetail::kFull);

// ParsePinEntry for readers that skip unusable entries: nullopt for one,
// logged as a warning naming the DN and the reason.
std::optional<PinRecord> UsablePinEntry(const LdapEntry& entry,
                                        PinDetail detail = PinDetail::kFull);

// The valid pins among `entries`, sorted by cert_sha256.
std::vector<PinRecord> ParsePinEntries(const std::vector<LdapEntry>& entries);

// A server entry read from the directory.
struct ServerEntry {
  std::string dn;       // As the server returned it.
  std::string key;      // DnKey(dn).
  ServerRecord record;  // Without pins.
};

// The server stored in `entry` (read with ServerAttributes()); nullopt,
// logged, unless it is named cn=<server> directly below the entry whose
// DnKey is `servers_key` and <server> is a name NormalizeDirectoryName
// accepts. The name is the RDN value (unambiguous even if cn has several
// values), normalized; domains normalized (invalid ones logged and
// skipped), sorted and unique.
std::optional<ServerEntry> ParseServerEntry(const LdapEntry& entry,
                                            absl::string_view servers_key);

// The server a pin entry named `pin_dn` belongs to: the cn of its parent,
// normalized, if that is directly below the entry whose DnKey is
// `servers_key`; nullopt otherwise (logged if the cn is no valid name).
std::optional<std::string> PinServerName(absl::string_view pin_dn,
                                         absl::string_view servers_key);

// The Domain Security policy stored in `entry` (read with
// DomainAttributes()). The domain is the RDN value, normalized by
// NormalizeDirectoryName (an entry whose RDN value it rejects is logged,
// naming the DN, and nullopt). Each
// direction: attribute absent -> kOff; one value "enforce" or "testing" (any
// case) -> that mode; anything else ("off" included, or several values) is
// logged as a warning naming the DN and read as kEnforce, so a damaged entry
// never lets mail through unsecured. nullopt, logged, unless the entry is
// named cn=<domain> directly below the entry whose DnKey is `domains_key`;
// nullopt, silently, when both directions are off (such an entry puts the
// domain on no list).
std::optional<DomainPolicy> ParseDomainEntry(const LdapEntry& entry,
                                             absl::string_view domains_key);

// The server the entry named `dn` stands for, however another tool spelled
// it: its RDN value normalized, if `dn` is cn=<value> directly below the
// entry whose DnKey is `servers_key`; nullopt otherwise (logged if the cn is
// no valid name).
std::optional<std::string> ServerEntryName(absl::string_view dn,
                                           absl::string_view servers_key);

// The domain the entry named `dn` stands for, however another tool spelled
// it: its RDN value normalized, if `dn` is cn=<value> directly below the
// entry whose DnKey is `domains_key`; nullopt otherwise (logged if the cn is
// no valid name).
std::optional<std::string> DomainEntryName(absl::string_view dn,
                                           absl::string_view domains_key);

// `policies` sorted by domain, with the policies of one domain (entries
// whose names normalize alike, e.g. "org-c.example" and "ORG-C.example.")
// merged into one: in each direction the stricter mode wins (enforce over
// testing over off), so no reader ever takes such a domain for less secured
// than one of its entries says.
std::vector<DomainPolicy> MergeDomainPolicies(
    std::vector<DomainPolicy> policies);

// The attributes storing `window`: dtrustPinNotBefore and dtrustPinNotAfter,
// each with one GeneralizedTime value, or with no value for an unset bound
// (for a modify-replace, which then removes the attribute).
std::vector<LdapAttribute> PinWindowAttributes(const PinWindow& window);

// The attributes storing `pin`'s provenance and publisher:
// dtrustPinProvenance with its PinProvenanceName, and dtrustPinPublisher
// with the publisher or, when it is empty, no value (for a modify-replace,
// which then removes the attribute).
std::vector<LdapAttribute> PinProvenanceAttributes(const PinRecord& pin);

// The two direction attributes (send, receive) storing `policy`: each with
// the mode's SecureModeName as its one value, or with no value for kOff.
std::vector<LdapAttribute> DomainPolicyAttributes(const DomainPolicy& policy);

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_RECORDS_H_
