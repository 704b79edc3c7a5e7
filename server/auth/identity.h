// Who a caller is, as the transport established it, and what it may do.
#ifndef DTRUST_SERVER_AUTH_IDENTITY_H_
#define DTRUST_SERVER_AUTH_IDENTITY_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/core/digest.h"

namespace dtrust {

// A caller's identity. Established by the transport only: a unix socket
// peer's kernel credentials (SO_PEERCRED), or the SHA-256 of the DER
// certificate a TLS client proved it holds the key of. Never a name the
// client chose (no subject, CN, issuer or serial identifies anyone).
struct Identity {
  enum class Kind {
    kAnonymous,    // Plain TCP on loopback: nothing is known.
    kUnixUser,     // A local process over a unix socket.
    kCertificate,  // A TLS client certificate.
  };
  Kind kind = Kind::kAnonymous;
  uid_t uid = 0;               // kUnixUser.
  gid_t gid = 0;               // kUnixUser: the primary group.
  Sha256Digest cert_sha256{};  // kCertificate.
  // Where the call came from, for logs and the audit trail (gRPC's peer
  // string, e.g. "ipv4:127.0.0.1:40112"); never used to decide anything.
  std::string peer{};

  static Identity Anonymous(std::string peer);
  static Identity UnixUser(uid_t uid, gid_t gid, std::string peer);
  static Identity Certificate(const Sha256Digest& sha256, std::string peer);

  // "unix user alice (uid 1000)", "client certificate sha256 AB:CD:..." or
  // "anonymous client"; `user_name` (may be empty) names a unix user.
  std::string Describe(absl::string_view user_name = "") const;
};

// What a caller may do; each role includes the ones before it.
enum class Role {
  kNone = 0,   // Nothing (anonymous callers with --anonymous none).
  kReader,     // Verify, Ping, GetStatus, health: what MTAs need.
  kPublisher,  // Also List, Publish, Unpublish, GetPublishChallenge,
               // ListDomainPolicies; possibly limited to scopes.
  kAdmin,      // Everything: Domain Security lists, grants, the history.
};

// "none", "reader", "publisher", "admin".
absl::string_view RoleName(Role role);
// The inverse of RoleName; InvalidArgument naming `what` otherwise.
absl::StatusOr<Role> ParseRole(absl::string_view text, absl::string_view what);

}  // namespace dtrust

#endif  // DTRUST_SERVER_AUTH_IDENTITY_H_
