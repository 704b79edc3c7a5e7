// Validation of server names and mail domains.
#ifndef DTRUST_SERVER_CORE_DNS_NAME_H_
#define DTRUST_SERVER_CORE_DNS_NAME_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dtrust {

// Returns `name` lower-cased without a trailing dot if it is a valid DNS host
// name: labels of 1-63 letters, digits and inner hyphens (A-labels for IDNs),
// at most 253 characters, no wildcards. Otherwise InvalidArgument naming
// `what` (e.g. "server name"), the offending character and its position.
// Because only [a-z0-9.-] pass, a valid name never needs LDAP escaping.
absl::StatusOr<std::string> NormalizeDnsName(absl::string_view name,
                                             absl::string_view what);

// Whether normalized name `name` is `domain` or below it ("mx.a.example" is
// in "a.example"; "xa.example" is not).
bool IsInDomain(absl::string_view name, absl::string_view domain);

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_DNS_NAME_H_
