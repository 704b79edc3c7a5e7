// Managing client grants: validation, then the store.
#ifndef DTRUST_SERVER_AUTH_CLIENT_GRANTS_H_
#define DTRUST_SERVER_AUTH_CLIENT_GRANTS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/auth/authorizer.h"
#include "server/auth/grant.h"
#include "server/core/clock.h"

namespace dtrust {

// Thread-safe; owns none of its pointers (which must outlive it). After a
// write the cache forgets its copy, so this dtrustd applies the change at
// once (others within the cache's refresh interval).
class ClientGrants {
 public:
  static constexpr size_t kMaxLabelLength = 64;

  ClientGrants(GrantStore* store, GrantCache* cache, const Clock* clock)
      : store_(store), cache_(cache), clock_(clock) {}

  // Creates or replaces the grant for `grant.subject`, recording
  // `granted_by` and the time; returns it as stored. InvalidArgument (and
  // nothing written) for: role none; scopes on a role other than publisher;
  // a scope that is not a DNS name (scopes are normalized, sorted, unique);
  // a label over kMaxLabelLength or with control characters; a bad unix
  // name.
  absl::StatusOr<Grant> Put(Grant grant, absl::string_view granted_by);
  // Removes the grant for `subject` and returns it; NotFound if none.
  absl::StatusOr<Grant> Revoke(const GrantSubject& subject);
  // Every grant, sorted by subject key.
  absl::StatusOr<std::vector<Grant>> List();

 private:
  GrantStore* const store_;
  GrantCache* const cache_;
  const Clock* const clock_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_AUTH_CLIENT_GRANTS_H_
