// Who may do what: roles and scopes for client identities.
#ifndef DTRUST_SERVER_AUTH_AUTHORIZER_H_
#define DTRUST_SERVER_AUTH_AUTHORIZER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/auth/grant.h"
#include "server/auth/identity.h"
#include "server/core/clock.h"

namespace dtrust {

// The local account database, behind an interface so tests can fake it.
// Implementations are thread-safe.
class UnixAccounts {
 public:
  virtual ~UnixAccounts() = default;
  // The user name of `uid`; "" if it has none.
  virtual std::string UserName(uid_t uid) const = 0;
  // Whether the user `uid` (primary group `gid`) is a member of `group`
  // (its primary group or a supplementary one).
  virtual bool InGroup(uid_t uid, gid_t gid, absl::string_view group) const = 0;
  // The system's database (getpwuid_r, getgrnam_r, getgrouplist).
  static const UnixAccounts* System();
};

// What the authorizer decided a caller may do.
struct Authority {
  Role role = Role::kNone;
  // Publisher limits (DNS suffixes); empty: none.
  std::vector<std::string> scopes{};
  // Who, for messages, pins and the audit trail: the identity and where its
  // role comes from, e.g. "unix user alice (uid 1000), grant \"mail team\"".
  std::string who{};
  // Where the call came from (Identity::peer), for logs.
  std::string from{};
};

// The grants of a GrantStore, read at most every `refresh` and kept as the
// last good copy while the store fails, for at most `max_stale`; then its
// error. Thread-safe; one caller refreshes while the others use the copy.
class GrantCache {
 public:
  GrantCache(GrantStore* store, const Clock* clock, absl::Duration refresh,
             absl::Duration max_stale)
      : store_(store),
        clock_(clock),
        refresh_(refresh),
        max_stale_(max_stale) {}

  absl::StatusOr<std::shared_ptr<const std::vector<Grant>>> Get();
  // Forgets the copy, so the next Get() reads the store (after a write).
  void Invalidate();

 private:
  GrantStore* const store_;
  const Clock* const clock_;
  const absl::Duration refresh_;
  const absl::Duration max_stale_;
  absl::Mutex refresh_mu_;  // Held by the one caller reading the store.
  absl::Mutex mu_;
  std::shared_ptr<const std::vector<Grant>> grants_ ABSL_GUARDED_BY(mu_);
  absl::Time read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time good_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

struct AuthorizerOptions {
  // The role of callers without an identity, and of identified callers
  // without a grant (--anonymous).
  Role anonymous_role = Role::kReader;
  // Unix users who are admin without a grant: root and dtrustd's own user.
  std::vector<uid_t> admin_uids{};
  // Client certificates that are admin without a grant (--admin-client).
  std::vector<Sha256Digest> admin_certificates{};
};

// Decides roles and scopes. Thread-safe; owns none of its pointers (which
// must outlive it). `grants` may be null: then only the bootstrap rules
// (admin uids and certificates) and the anonymous role apply.
class Authorizer {
 public:
  Authorizer(AuthorizerOptions options, GrantCache* grants,
             const UnixAccounts* accounts)
      : options_(std::move(options)), grants_(grants), accounts_(accounts) {}

  // The caller's authority if it has at least `needed` for `action` (e.g.
  // "Publish"). Otherwise nothing may be done: Unauthenticated for a caller
  // without an identity, PermissionDenied naming the identity, its role and
  // the role `action` needs. Unavailable when the grants cannot be read
  // (and no copy younger than the cache's bound exists).
  absl::StatusOr<Authority> Require(const Identity& identity, Role needed,
                                    absl::string_view action) const;

  // "unix user alice (uid 1000)", "client certificate sha256 ...", for
  // records of calls that were refused before a role was known.
  std::string Describe(const Identity& identity) const;

  // For a publisher limited to scopes: PermissionDenied unless `server`
  // and every one of `domains` (validated names; invalid ones are
  // InvalidArgument) lie in or below one of its scopes. OK for anyone else.
  static absl::Status CheckScopes(const Authority& authority,
                                  absl::string_view server,
                                  const std::vector<std::string>& domains);

 private:
  // The authority from the bootstrap rules and grants, whatever its role.
  absl::StatusOr<Authority> Resolve(const Identity& identity,
                                    Role needed) const;
  bool Matches(const Identity& identity, const GrantSubject& subject) const;

  const AuthorizerOptions options_;
  GrantCache* const grants_;
  const UnixAccounts* const accounts_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_AUTH_AUTHORIZER_H_
