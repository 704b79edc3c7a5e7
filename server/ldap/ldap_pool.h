// A small pool of bound LDAP connections that survives server restarts and
// fails over between URIs.
#ifndef DTRUST_SERVER_LDAP_LDAP_POOL_H_
#define DTRUST_SERVER_LDAP_LDAP_POOL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/ldap/ldap_connection.h"

namespace dtrust {

// Thread-safe. Holds at most `options.connections` connections, each lent to
// one thread at a time. A connection that fails with LDAP_SERVER_DOWN,
// LDAP_CONNECT_ERROR or LDAP_TIMEOUT is dropped together with the idle ones
// (they most likely died with it), and the next Run opens a new one, trying
// the URIs in order. Opening, failing over and reconnecting are logged.
class LdapPool {
 public:
  enum class Retry {
    kNever,  // Writes: never repeated blindly.
    // Reads: repeated once on a fresh connection when a reused one turns out
    // to have been closed by the server (not after a timeout, which would
    // only double the wait).
    kOnceIfStale,
  };

  // Starts with `first`, an open connection made with `options`.
  LdapPool(const LdapOptions& options, std::unique_ptr<LdapConnection> first);

  // Runs `op` on a pooled connection and returns its status. Waits at most
  // the timeout for a free connection, then Unavailable; opening a connection
  // fails with LdapConnection::Open's error.
  absl::Status Run(Retry retry,
                   absl::FunctionRef<absl::Status(LdapConnection&)> op);

  // The URI of the most recently opened connection.
  std::string connected_uri() const;

 private:
  // An idle connection or a new one; `fresh` tells which.
  absl::StatusOr<std::unique_ptr<LdapConnection>> Take(bool& fresh);
  // Back to the pool, or dropped (with the idle ones) if lost.
  void Give(std::unique_ptr<LdapConnection> connection);
  bool CanTake() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const LdapOptions options_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<LdapConnection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // Idle plus lent out.
  std::string uri_ ABSL_GUARDED_BY(mu_);
  bool lost_since_open_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_POOL_H_
