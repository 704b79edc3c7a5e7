#include "server/auth/grant.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/base/status_macros.h"

namespace dtrust {
namespace {

constexpr absl::string_view kCertificatePrefix = "sha256:";
constexpr absl::string_view kUserPrefix = "user:";
constexpr absl::string_view kGroupPrefix = "group:";

}  // namespace

absl::Status CheckUnixName(absl::string_view name, absl::string_view what) {
  if (name.empty() || name.size() > 32) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", absl::CHexEscape(name),
                     "\" is not a unix account name (1-32 characters)"));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = absl::ascii_isalnum(c) || c == '_' || c == '.' ||
                    (c == '-' && i > 0) || (c == '$' && i + 1 == name.size());
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": \"", absl::CHexEscape(name),
          "\" is not a unix account name (character ", i + 1, ")"));
    }
  }
  return absl::OkStatus();
}

std::string GrantSubject::Key() const {
  switch (kind) {
    case Kind::kCertificate:
      return absl::StrCat(kCertificatePrefix, cert_sha256.ToHex());
    case Kind::kUnixUser:
      return absl::StrCat(kUserPrefix, name);
    case Kind::kUnixGroup:
      return absl::StrCat(kGroupPrefix, name);
  }
  return "";
}

absl::StatusOr<GrantSubject> GrantSubject::FromKey(absl::string_view key) {
  GrantSubject subject;
  if (absl::ConsumePrefix(&key, kCertificatePrefix)) {
    DTRUST_ASSIGN_OR_RETURN(subject.cert_sha256,
                            Sha256Digest::FromHex(key, "grant subject"));
    return subject;
  }
  if (absl::ConsumePrefix(&key, kUserPrefix)) {
    subject.kind = Kind::kUnixUser;
  } else if (absl::ConsumePrefix(&key, kGroupPrefix)) {
    subject.kind = Kind::kUnixGroup;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("grant subject \"", absl::CHexEscape(key),
                     "\" does not start with sha256:, user: or group:"));
  }
  DTRUST_RETURN_IF_ERROR(CheckUnixName(key, "grant subject"));
  subject.name = std::string(key);
  return subject;
}

std::string GrantSubject::Describe() const {
  switch (kind) {
    case Kind::kCertificate:
      return absl::StrCat("client certificate sha256 ",
                          cert_sha256.ToColonHex());
    case Kind::kUnixUser:
      return absl::StrCat("unix user ", name);
    case Kind::kUnixGroup:
      return absl::StrCat("unix group ", name);
  }
  return "";
}

}  // namespace dtrust
