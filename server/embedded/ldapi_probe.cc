#include "server/embedded/ldapi_probe.h"

#include <ldap.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "server/embedded/slapd_config.h"

namespace dtrust {
namespace {

struct LdapDeleter {
  void operator()(LDAP* ld) const { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
struct MessageDeleter {
  void operator()(LDAPMessage* message) const { ldap_msgfree(message); }
};
struct BervalDeleter {
  void operator()(berval* value) const { ber_bvfree(value); }
};

absl::Status LdapError(int rc, absl::string_view what, absl::string_view uri) {
  std::string message =
      absl::StrCat(what, " on ", uri, ": ", ldap_err2string(rc), " (", rc, ")");
  if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR ||
      rc == LDAP_TIMEOUT || rc == LDAP_BUSY || rc == LDAP_UNAVAILABLE) {
    return absl::UnavailableError(message);
  }
  return absl::FailedPreconditionError(message);
}

}  // namespace

absl::Status ProbeLdapi(const std::string& uri, const std::string& base_dn,
                        const std::string& expected_dn,
                        absl::Duration timeout) {
  LDAP* raw = nullptr;
  int rc = ldap_initialize(&raw, uri.c_str());
  if (rc != LDAP_SUCCESS) return LdapError(rc, "ldap_initialize", uri);
  std::unique_ptr<LDAP, LdapDeleter> ld(raw);
  const int version = LDAP_VERSION3;
  timeval limit = absl::ToTimeval(timeout);
  if (ldap_set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &version) !=
          LDAP_OPT_SUCCESS ||
      ldap_set_option(ld.get(), LDAP_OPT_NETWORK_TIMEOUT, &limit) !=
          LDAP_OPT_SUCCESS ||
      ldap_set_option(ld.get(), LDAP_OPT_TIMEOUT, &limit) != LDAP_OPT_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("cannot set LDAP options for ", uri));
  }

  // An empty initial response: "authorize me as whoever I am".
  char empty[] = "";
  berval no_authzid = {0, empty};
  rc = ldap_sasl_bind_s(ld.get(), nullptr, "EXTERNAL", &no_authzid, nullptr,
                        nullptr, nullptr);
  if (rc != LDAP_SUCCESS) return LdapError(rc, "SASL EXTERNAL bind", uri);

  berval* raw_authzid = nullptr;
  rc = ldap_whoami_s(ld.get(), &raw_authzid, nullptr, nullptr);
  std::unique_ptr<berval, BervalDeleter> authzid(raw_authzid);
  if (rc != LDAP_SUCCESS) return LdapError(rc, "WhoAmI", uri);
  absl::string_view identity =
      authzid == nullptr ? absl::string_view()
                         : absl::string_view(authzid->bv_val, authzid->bv_len);
  if (!absl::ConsumePrefix(&identity, "dn:") ||
      !SameDn(identity, expected_dn)) {
    return absl::FailedPreconditionError(
        absl::StrCat("slapd on ", uri, " maps this process (uid ", geteuid(),
                     ") to '", identity, "', not to '", expected_dn,
                     "'; check authz-regexp in its slapd.conf"));
  }

  char no_attributes[] = LDAP_NO_ATTRS;
  char* attributes[] = {no_attributes, nullptr};
  LDAPMessage* raw_result = nullptr;
  rc = ldap_search_ext_s(ld.get(), base_dn.c_str(), LDAP_SCOPE_BASE,
                         "(objectClass=*)", attributes, 0, nullptr, nullptr,
                         &limit, 1, &raw_result);
  std::unique_ptr<LDAPMessage, MessageDeleter> result(raw_result);
  if (rc == LDAP_NO_SUCH_OBJECT) {
    return absl::FailedPreconditionError(
        absl::StrCat("slapd on ", uri, " has no base entry '", base_dn, "'"));
  }
  if (rc != LDAP_SUCCESS) {
    return LdapError(rc, absl::StrCat("reading base entry '", base_dn, "'"),
                     uri);
  }
  return absl::OkStatus();
}

}  // namespace dtrust
