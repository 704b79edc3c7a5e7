#include "server/auth/identity.h"

#include "absl/strings/str_cat.h"

namespace dtrust {

Identity Identity::Anonymous(std::string peer) {
  Identity identity;
  identity.peer = std::move(peer);
  return identity;
}

Identity Identity::UnixUser(uid_t uid, gid_t gid, std::string peer) {
  Identity identity;
  identity.kind = Kind::kUnixUser;
  identity.uid = uid;
  identity.gid = gid;
  identity.peer = std::move(peer);
  return identity;
}

Identity Identity::Certificate(const Sha256Digest& sha256, std::string peer) {
  Identity identity;
  identity.kind = Kind::kCertificate;
  identity.cert_sha256 = sha256;
  identity.peer = std::move(peer);
  return identity;
}

std::string Identity::Describe(absl::string_view user_name) const {
  switch (kind) {
    case Kind::kAnonymous:
      return "anonymous client";
    case Kind::kUnixUser:
      return user_name.empty()
                 ? absl::StrCat("unix user with uid ", uid)
                 : absl::StrCat("unix user ", user_name, " (uid ", uid, ")");
    case Kind::kCertificate:
      return absl::StrCat("client certificate sha256 ",
                          cert_sha256.ToColonHex());
  }
  return "";
}

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kNone:
      return "none";
    case Role::kReader:
      return "reader";
    case Role::kPublisher:
      return "publisher";
    case Role::kAdmin:
      return "admin";
  }
  return "";
}

absl::StatusOr<Role> ParseRole(absl::string_view text, absl::string_view what) {
  for (Role role :
       {Role::kNone, Role::kReader, Role::kPublisher, Role::kAdmin}) {
    if (text == RoleName(role)) return role;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      what, ": \"", text, "\" is not a role (none, reader, publisher, admin)"));
}

}  // namespace dtrust
