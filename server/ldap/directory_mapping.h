// How dtrustd's poller (ldap_poller.h) reads a directory: the attribute
// identifying entries, the attribute telling that they changed, and how
// entries become servers, pins and Domain Security lists - by the dtrust
// schema (the default) or by a foreign mapping onto an existing tree
// without it (Active Directory computers, 389-DS / FreeIPA hosts), which
// dtrustd then only reads.
//
// Header-only and free of libldap: dtrustd's option parser includes it.
#ifndef DTRUST_SERVER_LDAP_DIRECTORY_MAPPING_H_
#define DTRUST_SERVER_LDAP_DIRECTORY_MAPPING_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace dtrust {

// What a poll compares to find the entries changed since the last one.
enum class ChangeAttribute {
  // OpenLDAP, 389-DS: GeneralizedTime, seconds.
  kModifyTimestamp,
  // Active Directory: the update sequence number of the domain controller
  // answering (with highestCommittedUSN of its root DSE).
  kUsnChanged,
};

// "modifyTimestamp", "uSNChanged": the attribute and the flag value.
inline absl::string_view ChangeAttributeName(ChangeAttribute attribute) {
  return attribute == ChangeAttribute::kUsnChanged ? "uSNChanged"
                                                   : "modifyTimestamp";
}

// An existing tree without the dtrust schema. Every entry under the base DN
// matching `server_filter` with a name and at least one certificate is a
// transport server; every certificate value is a certificate pin whose
// digests dtrustd computes from the DER (values that do not parse as
// certificates are logged with the DN and skipped).
struct ForeignMapping {
  std::string server_filter{};  // E.g. "(objectClass=computer)".
  // Its one value is the server's DNS name.
  std::string server_name_attribute = "dNSHostName";
  std::string certificate_attribute = "userCertificate;binary";
  // The mail domains a server serves: the values of this attribute, or,
  // when it is empty, `domains` for every server (none if also empty).
  std::string domain_attribute{};
  std::vector<std::string> domains{};  // Normalized DNS names.
  // The Domain Security lists, like Exchange's msExchTLSSendDomainSecureList
  // and msExchTLSReceiveDomainSecureList: the domain names in two
  // multi-valued attributes of the one entry `domain_list_dn`, each listed
  // direction enforced. Empty DN: no lists. Either attribute may be empty
  // (that list is not mapped).
  std::string domain_list_dn{};
  std::string send_secure_attribute{};
  std::string receive_secure_attribute{};
};

struct DirectoryMapping {
  // Its value identifies an entry across renames: entryUUID (OpenLDAP, and
  // 389-DS with its entryUUID plugin), objectGUID (Active Directory),
  // nsUniqueId (389-DS).
  std::string id_attribute = "entryUUID";
  ChangeAttribute change_attribute = ChangeAttribute::kModifyTimestamp;
  // Every this many polls one reads everything rather than the changes
  // (besides the first poll and the first after each reconnect); catches
  // changes a replica received later than they were made. At least 1.
  int full_load_every = 10;
  // Unset: the dtrust schema (deploy/ldap/).
  std::optional<ForeignMapping> foreign{};
};

// Whether `text` is an LDAP attribute description (RFC 4512): a name
// (letter, then letters, digits, hyphens) or a numeric OID, then any
// options (";binary").
inline bool IsAttributeDescription(absl::string_view text) {
  const size_t options = text.find(';');
  const absl::string_view type = text.substr(0, options);
  if (type.empty()) return false;
  const bool numeric = absl::ascii_isdigit(type[0]);
  char previous = '.';
  for (char c : type) {
    const bool ok =
        numeric ? (absl::ascii_isdigit(c) || (c == '.' && previous != '.'))
                : (absl::ascii_isalnum(c) || c == '-');
    if (!ok) return false;
    previous = c;
  }
  if (numeric && previous == '.') return false;
  if (options == absl::string_view::npos) return true;
  for (absl::string_view rest = text.substr(options + 1);;) {
    const size_t end = rest.find(';');
    const absl::string_view option = rest.substr(0, end);
    if (option.empty()) return false;
    for (char c : option) {
      if (!absl::ascii_isalnum(c) && c != '-') return false;
    }
    if (end == absl::string_view::npos) return true;
    rest = rest.substr(end + 1);
  }
}

// For messages: what the foreign mapping reads, e.g. "servers are
// (objectClass=computer) entries named by dNSHostName with certificates in
// userCertificate;binary".
inline std::string DescribeForeignMapping(const ForeignMapping& mapping) {
  return absl::StrCat("servers are ", mapping.server_filter,
                      " entries named by ", mapping.server_name_attribute,
                      " with certificates in ", mapping.certificate_attribute);
}

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_DIRECTORY_MAPPING_H_
