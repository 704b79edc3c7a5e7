#include "server/embedded/slapd_config.h"

#include <ldap.h>
#include <sys/un.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "server/ldap/ldap_dn.h"

namespace dtrust {
namespace {

absl::string_view View(const berval& value) {
  return absl::string_view(value.bv_val, value.bv_len);
}

// A double-quoted slapd.conf token: slapd's tokenizer drops a backslash and
// keeps the character after it.
std::string Quote(absl::string_view text) {
  return absl::StrCat(
      "\"", absl::StrReplaceAll(text, {{"\\", "\\\\"}, {"\"", "\\\""}}), "\"");
}

bool HasLineBreak(absl::string_view text) {
  return text.find_first_of("\r\n") != absl::string_view::npos;
}

}  // namespace

absl::StatusOr<BaseEntry> ParseBaseEntry(absl::string_view base_dn) {
  const absl::StatusOr<LdapDnPtr> dn = ParseDn(base_dn);
  if (!dn.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("base DN '", base_dn, "' is not a valid DN (RFC 4514)"));
  }
  LDAPDN rdns = dn->get();
  if (rdns == nullptr || rdns[0] == nullptr) {
    return absl::InvalidArgumentError("base DN is empty");
  }
  LDAPRDN rdn = rdns[0];
  if (rdn[1] != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "base DN '", base_dn, "': multi-valued first RDN is not supported"));
  }
  const LDAPAVA& ava = *rdn[0];
  BaseEntry entry;
  entry.rdn_type = absl::AsciiStrToLower(View(ava.la_attr));
  if (entry.rdn_type == "o") {
    entry.object_classes = {"organization"};
  } else if (entry.rdn_type == "ou") {
    entry.object_classes = {"organizationalUnit"};
  } else if (entry.rdn_type == "dc") {
    entry.object_classes = {"domain", "dcObject"};
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "base DN '", base_dn, "': first RDN type '", View(ava.la_attr),
        "' is not supported; use o=, ou= or dc="));
  }
  if ((ava.la_flags & LDAP_AVA_BINARY) != 0 || ava.la_value.bv_len == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "base DN '", base_dn, "': first RDN needs a non-empty string value"));
  }
  entry.rdn_value = std::string(View(ava.la_value));
  absl::StatusOr<std::string> canonical = CanonicalDn(base_dn);
  if (!canonical.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("base DN '", base_dn, "' cannot be normalized"));
  }
  entry.dn = *std::move(canonical);
  return entry;
}

bool SameDn(absl::string_view a, absl::string_view b) {
  const absl::StatusOr<std::string> canonical_a = CanonicalDn(a);
  const absl::StatusOr<std::string> canonical_b = CanonicalDn(b);
  return canonical_a.ok() && canonical_b.ok() && !canonical_a->empty() &&
         absl::EqualsIgnoreCase(*canonical_a, *canonical_b);
}

std::string ServiceDn(const BaseEntry& base) {
  return absl::StrCat("cn=dtrustd,", base.dn);
}

std::string BaseEntryLdif(const BaseEntry& base) {
  std::string ldif = absl::StrCat("dn:: ", absl::Base64Escape(base.dn), "\n");
  for (const std::string& object_class : base.object_classes) {
    absl::StrAppend(&ldif, "objectClass: ", object_class, "\n");
  }
  absl::StrAppend(&ldif, base.rdn_type,
                  ":: ", absl::Base64Escape(base.rdn_value), "\n");
  return ldif;
}

absl::StatusOr<std::string> LdapiUri(absl::string_view socket_path) {
  if (!absl::StartsWith(socket_path, "/")) {
    return absl::InvalidArgumentError(
        absl::StrCat("ldapi socket path '", socket_path, "' is not absolute"));
  }
  if (socket_path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ldapi socket path '", socket_path, "' is ", socket_path.size(),
        " bytes; a unix socket path must be shorter than ",
        sizeof(sockaddr_un{}.sun_path), " (use a shorter --data-dir)"));
  }
  std::string uri = "ldapi://";
  for (char c : socket_path) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      uri.push_back(c);
    } else {
      absl::StrAppend(&uri, "%",
                      absl::AsciiStrToUpper(
                          absl::BytesToHexString(absl::string_view(&c, 1))));
    }
  }
  return uri;
}

absl::StatusOr<std::string> RenderSlapdConfig(const SlapdConfigParams& p) {
  for (absl::string_view path :
       {absl::string_view(p.schema_dir),
        absl::string_view(p.dtrust_schema_file),
        absl::string_view(p.module_path), absl::string_view(p.db_dir)}) {
    if (HasLineBreak(path)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "path '", absl::CEscape(path), "' contains a line break"));
    }
  }
  const std::string service = Quote(ServiceDn(p.base));
  // In the authz-regexp replacement '$' starts a back-reference; a DN may
  // spell it as the hex escape \24.
  const std::string service_replacement =
      Quote(absl::StrReplaceAll(ServiceDn(p.base), {{"$", "\\24"}}));
  std::string conf =
      "# Written by dtrustd on every start; edits are overwritten.\n";
  absl::StrAppend(&conf, "include ",
                  Quote(absl::StrCat(p.schema_dir, "/core.schema")), "\n");
  absl::StrAppend(&conf, "include ",
                  Quote(absl::StrCat(p.schema_dir, "/cosine.schema")), "\n");
  absl::StrAppend(&conf, "include ", Quote(p.dtrust_schema_file), "\n");
  absl::StrAppend(&conf, "modulepath ", Quote(p.module_path), "\n");
  absl::StrAppend(&conf, "moduleload back_mdb\n");
  absl::StrAppend(&conf, "moduleload syncprov\n");
  // No per-operation syslog lines (the default level is "stats").
  absl::StrAppend(&conf, "loglevel none\n");
  // SASL EXTERNAL over ldapi: the peer's uid decides the identity.
  absl::StrAppend(
      &conf, "authz-regexp ",
      Quote(absl::StrCat("^gidNumber=[0-9]+\\+uidNumber=", p.service_uid,
                         ",cn=peercred,cn=external,cn=auth$")),
      " ", service_replacement, "\n");
  absl::StrAppend(&conf, "access to dn.base=\"\" by dn.exact=", service,
                  " read by * none\n");
  absl::StrAppend(&conf,
                  "access to dn.base=\"cn=Subschema\" by dn.exact=", service,
                  " read by * none\n");
  absl::StrAppend(&conf, "\ndatabase mdb\n");
  absl::StrAppend(&conf, "suffix ", Quote(p.base.dn), "\n");
  absl::StrAppend(&conf, "directory ", Quote(p.db_dir), "\n");
  absl::StrAppend(&conf, "maxsize 1073741824\n");
  absl::StrAppend(&conf, "index objectClass,cn eq\n");
  absl::StrAppend(
      &conf, "index dtrustCertSha256,dtrustSpkiSha256,dtrustMailDomain eq\n");
  absl::StrAppend(&conf, "index entryUUID,entryCSN eq\n");
  absl::StrAppend(&conf, "limits dn.exact=", service,
                  " size=unlimited time=unlimited\n");
  // deploy/ldap/acl.conf's rules for an external directory, without a
  // reader group: the service identity adds and removes entries below the
  // base entry and writes them, reads but does not change the base entry;
  // anyone else (anonymous, other uids, root too) gets nothing. No rootdn.
  const std::string base = Quote(p.base.dn);
  absl::StrAppend(&conf, "access to dn.base=", base,
                  " attrs=children by dn.exact=", service,
                  " write by * none\n");
  absl::StrAppend(&conf, "access to dn.base=", base, " by dn.exact=", service,
                  " read by * none\n");
  absl::StrAppend(&conf, "access to dn.subtree=", base,
                  " by dn.exact=", service, " write by * none\n");
  absl::StrAppend(&conf, "access to * by * none\n");
  // RFC 4533 provider for dtrustd's refreshAndPersist search. The session
  // log lets a reconnecting consumer get the deletes since its cookie
  // instead of a full present phase.
  absl::StrAppend(&conf, "overlay syncprov\n");
  absl::StrAppend(&conf, "syncprov-checkpoint 100 5\n");
  absl::StrAppend(&conf, "syncprov-sessionlog 10000\n");
  return conf;
}

}  // namespace dtrust
