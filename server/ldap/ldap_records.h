// The dtrust schema names (deploy/ldap/dtrust.schema) and the conversion of
// LDAP entries into Directory records, including the verification every pin
// entry must pass before it is trusted.
#ifndef DTRUST_SERVER_LDAP_LDAP_RECORDS_H_
#define DTRUST_SERVER_LDAP_LDAP_RECORDS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/core/directory.h"
#include "server/ldap/ldap_connection.h"

namespace dtrust {

inline constexpr absl::string_view kServerClass = "dtrustTransportServer";
inline constexpr absl::string_view kPinClass = "dtrustPinnedCertificate";
inline constexpr absl::string_view kCertSha256 = "dtrustCertSha256";
inline constexpr absl::string_view kSpkiSha256 = "dtrustSpkiSha256";
inline constexpr absl::string_view kPinKind = "dtrustPinKind";
inline constexpr absl::string_view kMailDomain = "dtrustMailDomain";
inline constexpr absl::string_view kCertificate = "userCertificate;binary";

// The attributes to request for server and for pin entries.
const std::vector<std::string>& ServerAttributes();
const std::vector<std::string>& PinAttributes();

// "(objectClass=<object_class>)".
std::string ClassFilter(absl::string_view object_class);

// Key for comparing DNs read from the server: canonical escaping, ASCII
// lower case (all RDN types dtrust uses - cn, ou, o, dc and the digests -
// match case-insensitively). InvalidArgument if `dn` does not parse.
absl::StatusOr<std::string> DnKey(absl::string_view dn);

// `values` sorted, duplicates removed.
std::vector<std::string> SortedUnique(std::vector<std::string> values);

// The pin stored in `entry` (read with PinAttributes()), with `der` set; or
// nullopt, logged as a warning naming the DN, when the entry is malformed or
// its digest attributes disagree with the certificate it stores (both
// digests are recomputed from the DER).
std::optional<PinRecord> ParsePinEntry(const LdapEntry& entry);

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
// DnKey is `servers_key`. The name is the RDN value (unambiguous even if cn
// has several values); domains sorted and unique.
std::optional<ServerEntry> ParseServerEntry(const LdapEntry& entry,
                                            absl::string_view servers_key);

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_RECORDS_H_
