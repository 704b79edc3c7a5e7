// The dtrust LDAP schema, compiled into the binary.
#ifndef DTRUST_SERVER_EMBEDDED_SCHEMA_H_
#define DTRUST_SERVER_EMBEDDED_SCHEMA_H_

#include "absl/strings/string_view.h"

namespace dtrust {

// deploy/ldap/dtrust.schema (slapd.conf form) as it was at build time.
// Static storage; thread-safe.
absl::string_view DtrustSchema();

}  // namespace dtrust

#endif  // DTRUST_SERVER_EMBEDDED_SCHEMA_H_
