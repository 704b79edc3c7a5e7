#include "server/embedded/ldapi_probe.h"

#include <ldap.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "server/base/status_macros.h"
#include "server/embedded/slapd_config.h"
#include "server/ldap/ldap_connection.h"
#include "server/ldap/ldap_handles.h"
#include "server/ldap/ldap_status.h"

namespace dtrust {
namespace {

// The identity the server maps `connection` to (WhoAmI, RFC 4532), e.g.
// "dn:cn=dtrustd,o=dtrust".
absl::StatusOr<std::string> WhoAmI(const LdapConnection& connection) {
  berval* raw_authzid = nullptr;
  const int rc =
      ldap_whoami_s(connection.handle(), &raw_authzid, nullptr, nullptr);
  const BervalPtr authzid(raw_authzid);
  if (rc != LDAP_SUCCESS) {
    return LdapError(rc, "", "WhoAmI on", connection.uri());
  }
  if (authzid == nullptr) return "";
  return std::string(authzid->bv_val, authzid->bv_len);
}

}  // namespace

absl::Status ProbeLdapi(const std::string& uri, const std::string& base_dn,
                        const std::string& expected_dn,
                        absl::Duration timeout) {
  LdapOptions options;
  options.uris = {uri};
  options.sasl_external = true;
  options.timeout = timeout;
  DTRUST_ASSIGN_OR_RETURN(const std::unique_ptr<LdapConnection> connection,
                          LdapConnection::Open(options));
  DTRUST_ASSIGN_OR_RETURN(const std::string authzid, WhoAmI(*connection));
  absl::string_view identity = authzid;
  if (!absl::ConsumePrefix(&identity, "dn:") ||
      !SameDn(identity, expected_dn)) {
    return absl::FailedPreconditionError(
        absl::StrCat("slapd on ", uri, " maps this process (uid ", geteuid(),
                     ") to '", identity, "', not to '", expected_dn,
                     "'; check authz-regexp in its slapd.conf"));
  }
  const absl::Status base = connection
                                ->Search(base_dn, LdapScope::kBase,
                                         "(objectClass=*)", {LDAP_NO_ATTRS})
                                .status();
  if (absl::IsNotFound(base)) {
    return absl::FailedPreconditionError(
        absl::StrCat("slapd on ", uri, " has no base entry '", base_dn, "'"));
  }
  return base;
}

}  // namespace dtrust
