// Mapping of LDAP result codes onto absl::Status, following the Directory
// error contract (server/core/directory.h).
#ifndef DTRUST_SERVER_LDAP_LDAP_STATUS_H_
#define DTRUST_SERVER_LDAP_LDAP_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace dtrust {

// The Status for LDAP result `code` (not LDAP_SUCCESS) of `operation` (e.g.
// "search", "add") on `dn`, with the server's `diagnostic` message (may be
// empty). The message always holds the operation, the DN, ldap_err2string and
// the numeric code, and the diagnostic. Codes:
//   server down, connect error, timeouts, busy, unavailable, unwilling to
//   perform (unless the diagnostic is about the schema), bad credentials,
//   stronger auth / confidentiality required        -> Unavailable
//   no such object                                  -> NotFound
//   already exists, attribute value exists          -> AlreadyExists
//   not allowed on non-leaf                         -> FailedPrecondition
//   insufficient access                             -> PermissionDenied
//   anything else                                   -> Internal
absl::Status LdapError(int code, absl::string_view diagnostic,
                       absl::string_view operation, absl::string_view dn);

// True for the codes after which the connection is unusable and must be
// dropped: LDAP_SERVER_DOWN, LDAP_CONNECT_ERROR, LDAP_TIMEOUT.
bool IsConnectionLost(int code);

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_STATUS_H_
