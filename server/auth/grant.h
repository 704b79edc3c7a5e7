// Grants: which role (and scopes) a client identity has. They live in the
// directory, so every dtrustd sharing it enforces the same ones.
#ifndef DTRUST_SERVER_AUTH_GRANT_H_
#define DTRUST_SERVER_AUTH_GRANT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/auth/identity.h"
#include "server/core/digest.h"

namespace dtrust {

// Whom a grant is for.
struct GrantSubject {
  enum class Kind { kCertificate, kUnixUser, kUnixGroup };
  Kind kind = Kind::kCertificate;
  Sha256Digest cert_sha256{};  // kCertificate.
  std::string name{};          // kUnixUser / kUnixGroup: the account name.

  // The directory's key for it: "sha256:<64 hex>", "user:NAME" or
  // "group:NAME". Unique per subject.
  std::string Key() const;
  // The inverse of Key(); InvalidArgument naming the problem otherwise.
  static absl::StatusOr<GrantSubject> FromKey(absl::string_view key);
  // "client certificate sha256 AB:CD:...", "unix user NAME",
  // "unix group NAME".
  std::string Describe() const;

  friend bool operator==(const GrantSubject& a, const GrantSubject& b) {
    return a.Key() == b.Key();
  }
};

// A unix account name as dtrust accepts it: 1-32 characters of letters,
// digits, '_', '-', '.' (and a trailing '$'), not starting with '-'.
// InvalidArgument naming `what` otherwise.
absl::Status CheckUnixName(absl::string_view name, absl::string_view what);

struct Grant {
  GrantSubject subject{};
  Role role = Role::kReader;
  // Publisher only: DNS suffixes (normalized, sorted, unique) limiting the
  // servers it may publish for and the mail domains it may give them.
  // Empty: no limit.
  std::vector<std::string> scopes{};
  std::string label{};       // Free text for people ("mail team").
  std::string granted_by{};  // Who wrote it (an identity description).
  absl::Time granted = absl::InfinitePast();
};

// Where grants are kept. Implementations are thread-safe. An unreachable
// store is Unavailable, never "no grants".
class GrantStore {
 public:
  virtual ~GrantStore() = default;
  // Every grant, in no particular order.
  virtual absl::StatusOr<std::vector<Grant>> ListGrants() = 0;
  // Creates or replaces the grant for `grant.subject`.
  virtual absl::Status PutGrant(const Grant& grant) = 0;
  // NotFound when there is no grant for `subject`.
  virtual absl::Status RemoveGrant(const GrantSubject& subject) = 0;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_AUTH_GRANT_H_
