#include "server/ldap/ldap_status.h"

#include <ldap.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dtrust {
namespace {

// slapd answers "unwilling to perform" both when it will not serve right now
// (shutting down, read-only, restricted) and for a few schema violations;
// only the former is worth retrying.
bool MentionsSchema(absl::string_view diagnostic) {
  const std::string lower = absl::AsciiStrToLower(diagnostic);
  for (absl::string_view word : {"schema", "objectclass", "attribute"}) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

absl::StatusCode CodeFor(int code, absl::string_view diagnostic) {
  switch (code) {
    case LDAP_SERVER_DOWN:
    case LDAP_CONNECT_ERROR:
    case LDAP_TIMEOUT:
    case LDAP_TIMELIMIT_EXCEEDED:
    case LDAP_BUSY:
    case LDAP_UNAVAILABLE:
    case LDAP_INVALID_CREDENTIALS:
    case LDAP_STRONG_AUTH_REQUIRED:
    case LDAP_CONFIDENTIALITY_REQUIRED:
      return absl::StatusCode::kUnavailable;
    case LDAP_UNWILLING_TO_PERFORM:
      return MentionsSchema(diagnostic) ? absl::StatusCode::kInternal
                                        : absl::StatusCode::kUnavailable;
    case LDAP_NO_SUCH_OBJECT:
      return absl::StatusCode::kNotFound;
    case LDAP_ALREADY_EXISTS:
    case LDAP_TYPE_OR_VALUE_EXISTS:
      return absl::StatusCode::kAlreadyExists;
    case LDAP_NOT_ALLOWED_ON_NONLEAF:
      return absl::StatusCode::kFailedPrecondition;
    case LDAP_INSUFFICIENT_ACCESS:
      return absl::StatusCode::kPermissionDenied;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status LdapError(int code, absl::string_view diagnostic,
                       absl::string_view operation, absl::string_view dn) {
  std::string message =
      absl::StrCat("LDAP ", operation, " \"", dn,
                   "\" failed: ", ldap_err2string(code), " (", code, ")");
  if (!diagnostic.empty()) absl::StrAppend(&message, ": ", diagnostic);
  return absl::Status(CodeFor(code, diagnostic), message);
}

bool IsConnectionLost(int code) {
  return code == LDAP_SERVER_DOWN || code == LDAP_CONNECT_ERROR ||
         code == LDAP_TIMEOUT;
}

}  // namespace dtrust
