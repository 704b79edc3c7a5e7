#include "server/ldap/ldap_dn.h"

#include <ldap.h>

#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"
#include "server/ldap/ldap_handles.h"

namespace dtrust {
namespace {

struct berval ToBerval(absl::string_view text) {
  struct berval value;
  value.bv_len = text.size();
  value.bv_val = const_cast<char*>(text.data());
  return value;
}

absl::string_view ToView(const struct berval& value) {
  return absl::string_view(value.bv_val, value.bv_len);
}

absl::StatusOr<std::string> DnToString(LDAPDN dn, absl::string_view what) {
  char* text = nullptr;
  const int rc = ldap_dn2str(dn, &text, LDAP_DN_FORMAT_LDAPV3);
  LdapStringPtr owner(text);
  if (rc != LDAP_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode DN for ", what, ": ", ldap_err2string(rc)));
  }
  return std::string(text == nullptr ? "" : text);
}

}  // namespace

absl::StatusOr<LdapDnPtr> ParseDn(absl::string_view dn) {
  struct berval text = ToBerval(dn);
  LDAPDN parsed = nullptr;
  const int rc = ldap_bv2dn(&text, &parsed, LDAP_DN_FORMAT_LDAP);
  LdapDnPtr owner(parsed);
  if (rc != LDAP_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", dn, "\" is not a valid DN: ", ldap_err2string(rc)));
  }
  return owner;
}

absl::StatusOr<std::string> MakeRdn(absl::string_view attribute,
                                    absl::string_view value) {
  if (value.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty value for the RDN attribute ", attribute));
  }
  LDAPAVA ava = {};
  ava.la_attr = ToBerval(attribute);
  ava.la_value = ToBerval(value);
  ava.la_flags = LDAP_AVA_STRING;
  LDAPAVA* rdn[] = {&ava, nullptr};
  LDAPRDN dn[] = {rdn, nullptr};
  return DnToString(dn, absl::StrCat(attribute, "=", value));
}

absl::StatusOr<std::string> EscapeFilterValue(absl::string_view value) {
  struct berval in = ToBerval(value);
  struct berval out = {0, nullptr};
  const int rc = ldap_bv2escaped_filter_value(&in, &out);
  BerStringPtr owner(out.bv_val);
  if (rc != LDAP_SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot escape filter value \"", value, "\": ", ldap_err2string(rc)));
  }
  return std::string(ToView(out));
}

absl::StatusOr<SplitDn> SplitFirstRdn(absl::string_view dn) {
  DTRUST_ASSIGN_OR_RETURN(LdapDnPtr parsed, ParseDn(dn));
  LDAPDN rdns = parsed.get();
  if (rdns == nullptr || rdns[0] == nullptr) {
    return absl::InvalidArgumentError("the DN is empty");
  }
  LDAPRDN first = rdns[0];
  if (first[0] == nullptr || first[1] != nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", dn, "\" starts with a multi-valued RDN"));
  }
  SplitDn split;
  split.attribute = std::string(ToView(first[0]->la_attr));
  split.value = std::string(ToView(first[0]->la_value));
  DTRUST_ASSIGN_OR_RETURN(split.parent, DnToString(rdns + 1, dn));
  return split;
}

absl::StatusOr<std::string> CanonicalDn(absl::string_view dn) {
  DTRUST_ASSIGN_OR_RETURN(LdapDnPtr parsed, ParseDn(dn));
  return DnToString(parsed.get(), dn);
}

}  // namespace dtrust
