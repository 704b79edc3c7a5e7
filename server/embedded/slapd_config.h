// Pure functions that lay out an embedded slapd: the base entry, slapd.conf
// and the ldapi URI. No I/O; all thread-safe.
#ifndef DTRUST_SERVER_EMBEDDED_SLAPD_CONFIG_H_
#define DTRUST_SERVER_EMBEDDED_SLAPD_CONFIG_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dtrust {

// The entry at the base DN, created offline (slapadd) on first start.
struct BaseEntry {
  std::string dn;         // Normalized RFC 4514 string form.
  std::string rdn_type;   // "o", "ou" or "dc" (lower case).
  std::string rdn_value;  // The RDN's value, unescaped.
  std::vector<std::string> object_classes;
};

// Parses `base_dn`. The first RDN must be single-valued with type o
// (organization), ou (organizationalUnit) or dc (domain + dcObject) and a
// string value; anything else is InvalidArgument naming the problem.
absl::StatusOr<BaseEntry> ParseBaseEntry(absl::string_view base_dn);

// True if `a` and `b` name the same entry, comparing normalized forms without
// regard to ASCII case (o, ou, dc and cn all match case-insensitively).
// Unparsable DNs are never equal.
bool SameDn(absl::string_view a, absl::string_view b);

// The DN dtrustd's own uid is mapped to: "cn=dtrustd,<base dn>". It need not
// exist as an entry.
std::string ServiceDn(const BaseEntry& base);

// LDIF adding `base` (values base64-encoded, so any DN is safe).
std::string BaseEntryLdif(const BaseEntry& base);

// "ldapi://" + the percent-encoded absolute `socket_path`. InvalidArgument if
// the path is relative or does not fit in sockaddr_un::sun_path.
absl::StatusOr<std::string> LdapiUri(absl::string_view socket_path);

struct SlapdConfigParams {
  std::string schema_dir;          // Holds core.schema and cosine.schema.
  std::string dtrust_schema_file;  // dtrust.schema (slapd.conf form).
  std::string module_path;         // Holds back_mdb and syncprov.
  std::string db_dir;              // The mdb database directory.
  BaseEntry base;
  uid_t service_uid = 0;  // Peer uid (ldapi) mapped to ServiceDn(base).
};

// slapd.conf text: back-mdb under base.dn (1 GiB maxsize, the dtrust
// indexes) that is an RFC 4533 content sync provider (the syncprov overlay:
// contextCSN checkpoint every 100 writes or 5 minutes, a session log of
// 10000 changes; entryUUID and entryCSN indexed). SASL EXTERNAL peers with
// uid `service_uid` are authorized as ServiceDn(base). The access rules
// are deploy/ldap/acl.conf's without a reader group: ServiceDn(base) may add
// and remove entries below the base entry and read and write them (a
// refreshAndPersist search included), read the base entry (not change it),
// the root DSE and subschema, without size or time limits; everyone else,
// anonymous and every other uid, is told nothing and may write nothing.
// A database created without the entryUUID,entryCSN index needs slapindex
// before slapd runs with this configuration.
// InvalidArgument if a path contains a line break.
absl::StatusOr<std::string> RenderSlapdConfig(const SlapdConfigParams& params);

}  // namespace dtrust

#endif  // DTRUST_SERVER_EMBEDDED_SLAPD_CONFIG_H_
