// RAII owners for libldap / liblber objects. Each deleter calls the matching
// libldap release function; all accept null.
#ifndef DTRUST_SERVER_LDAP_LDAP_HANDLES_H_
#define DTRUST_SERVER_LDAP_LDAP_HANDLES_H_

#include <ldap.h>

#include <memory>

namespace dtrust {

// Unbinds and closes the connection.
struct LdapDeleter {
  void operator()(LDAP* ld) const { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
using LdapPtr = std::unique_ptr<LDAP, LdapDeleter>;

// A whole result chain (ldap_search_ext_s output).
struct LdapMessageDeleter {
  void operator()(LDAPMessage* message) const { ldap_msgfree(message); }
};
using LdapMessagePtr = std::unique_ptr<LDAPMessage, LdapMessageDeleter>;

// The attribute iterator of ldap_first_attribute (buffer not freed).
struct BerElementDeleter {
  void operator()(BerElement* ber) const { ber_free(ber, 0); }
};
using BerElementPtr = std::unique_ptr<BerElement, BerElementDeleter>;

// Strings libldap allocates (DNs, attribute names, diagnostics).
struct LdapMemDeleter {
  void operator()(char* p) const { ldap_memfree(p); }
};
using LdapStringPtr = std::unique_ptr<char, LdapMemDeleter>;

// Strings liblber allocates (ldap_bv2escaped_filter_value output).
struct BerMemDeleter {
  void operator()(char* p) const { ber_memfree(p); }
};
using BerStringPtr = std::unique_ptr<char, BerMemDeleter>;

// Value arrays of ldap_get_values_len.
struct BerValuesDeleter {
  void operator()(struct berval** values) const { ldap_value_free_len(values); }
};
using BerValuesPtr = std::unique_ptr<struct berval*, BerValuesDeleter>;

// Parsed DNs of ldap_str2dn.
struct LdapDnDeleter {
  void operator()(LDAPDN dn) const { ldap_dnfree(dn); }
};
using LdapDnPtr = std::unique_ptr<LDAPRDN, LdapDnDeleter>;

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_HANDLES_H_
