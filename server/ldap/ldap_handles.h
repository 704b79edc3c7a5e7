// RAII owners for libldap / liblber objects, over the generic Deleter
// (server/base/deleter.h). Each calls the matching libldap release function.
#ifndef DTRUST_SERVER_LDAP_LDAP_HANDLES_H_
#define DTRUST_SERVER_LDAP_LDAP_HANDLES_H_

#include <ldap.h>

#include <memory>

#include "server/base/deleter.h"

namespace dtrust {

// Unbinds and closes the connection.
inline void UnbindLdap(LDAP* ld) { ldap_unbind_ext_s(ld, nullptr, nullptr); }
using LdapPtr = std::unique_ptr<LDAP, Deleter<UnbindLdap>>;

// A whole result chain (ldap_search_ext_s output).
using LdapMessagePtr = std::unique_ptr<LDAPMessage, Deleter<ldap_msgfree>>;

// The attribute iterator of ldap_first_attribute (buffer not freed).
inline void FreeBerElement(BerElement* ber) { ber_free(ber, 0); }
using BerElementPtr = std::unique_ptr<BerElement, Deleter<FreeBerElement>>;

// A BER encoder or decoder of ber_alloc_t / ber_init, with its buffer.
inline void FreeBerElementAndBuffer(BerElement* ber) { ber_free(ber, 1); }
using BerPtr = std::unique_ptr<BerElement, Deleter<FreeBerElementAndBuffer>>;

// Strings libldap allocates (DNs, attribute names, diagnostics).
using LdapStringPtr = std::unique_ptr<char, Deleter<ldap_memfree>>;

// Strings liblber allocates (ldap_bv2escaped_filter_value output).
using BerStringPtr = std::unique_ptr<char, Deleter<ber_memfree>>;

// A single value liblber allocates (e.g. ldap_whoami_s output).
using BervalPtr = std::unique_ptr<struct berval, Deleter<ber_bvfree>>;

// A value array liblber allocates (ber_scanf "W" output).
using BerVarrayPtr = std::unique_ptr<struct berval, Deleter<ber_bvarray_free>>;

// Value arrays of ldap_get_values_len.
using BerValuesPtr =
    std::unique_ptr<struct berval*, Deleter<ldap_value_free_len>>;

// One control (ldap_create_*_control output).
using LdapControlPtr = std::unique_ptr<LDAPControl, Deleter<ldap_control_free>>;

// A null-terminated control list (ldap_parse_result, ldap_get_entry_controls).
using LdapControlsPtr =
    std::unique_ptr<LDAPControl*, Deleter<ldap_controls_free>>;

// Parsed DNs of ldap_str2dn.
using LdapDnPtr = std::unique_ptr<LDAPRDN, Deleter<ldap_dnfree>>;

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_HANDLES_H_
