// Safe construction and parsing of DNs and filter values. Everything that
// lands in a DN or filter goes through here, whether or not the caller has
// already validated it.
#ifndef DTRUST_SERVER_LDAP_LDAP_DN_H_
#define DTRUST_SERVER_LDAP_LDAP_DN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/ldap/ldap_handles.h"

namespace dtrust {

// "attribute=value" with `value` escaped per RFC 4514 by libldap (so ',',
// '+', '"', '\\', '<', '>', ';', '=', leading '#' or space, trailing space,
// NUL and non-ASCII UTF-8 are all escaped). InvalidArgument if `value` is
// empty or not valid UTF-8.
absl::StatusOr<std::string> MakeRdn(absl::string_view attribute,
                                    absl::string_view value);

// `value` escaped per RFC 4515 for use as a filter assertion value.
absl::StatusOr<std::string> EscapeFilterValue(absl::string_view value);

// A DN split into its leading RDN and the rest.
struct SplitDn {
  std::string attribute;  // Type of the first RDN, as written.
  std::string value;      // Its value, unescaped.
  std::string parent;     // The remaining DN in canonical form (may be "").
};

// Parses `dn` (RFC 4514). InvalidArgument if it does not parse, is empty, or
// its first RDN is multi-valued ("a=1+b=2").
absl::StatusOr<SplitDn> SplitFirstRdn(absl::string_view dn);

// `dn` parsed by libldap (RFC 4514; the LDAPv2 forms libldap accepts too).
// InvalidArgument naming `dn` if it does not parse.
absl::StatusOr<LdapDnPtr> ParseDn(absl::string_view dn);

// `dn` re-encoded by libldap (LDAPv3 string form): two spellings of the same
// DN that differ only in escaping or spacing map to the same string.
// Attribute type and value case are kept. InvalidArgument if it does not parse.
absl::StatusOr<std::string> CanonicalDn(absl::string_view dn);

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_DN_H_
