// Checks that an embedded slapd serves what dtrustd needs.
#ifndef DTRUST_SERVER_EMBEDDED_LDAPI_PROBE_H_
#define DTRUST_SERVER_EMBEDDED_LDAPI_PROBE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace dtrust {

// Connects to `uri` as server/ldap's LdapConnection does, binds with SASL
// EXTERNAL and checks that the server authorizes us as `expected_dn`
// (WhoAmI) and holds the entry `base_dn`. Returns Unavailable if the server
// cannot be reached or will not bind us (yet), within `timeout` per network
// operation; FailedPrecondition if it answers but the identity or the base
// entry is wrong; otherwise the Status LdapError (server/ldap/ldap_status.h)
// makes of the failure. Thread-safe (each call uses its own connection).
absl::Status ProbeLdapi(const std::string& uri, const std::string& base_dn,
                        const std::string& expected_dn, absl::Duration timeout);

}  // namespace dtrust

#endif  // DTRUST_SERVER_EMBEDDED_LDAPI_PROBE_H_
