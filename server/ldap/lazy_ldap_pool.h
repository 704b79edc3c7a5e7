// An LdapPool opened on first use.
#ifndef DTRUST_SERVER_LDAP_LAZY_LDAP_POOL_H_
#define DTRUST_SERVER_LDAP_LAZY_LDAP_POOL_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/ldap/ldap_connection.h"
#include "server/ldap/ldap_pool.h"

namespace dtrust {

// For stores that must not keep dtrustd from starting while the directory
// is down: the first Run opens the pool (its error, Unavailable when no URI
// answers, is returned; the next Run tries again), later ones reuse it.
// Thread-safe.
class LazyLdapPool {
 public:
  explicit LazyLdapPool(LdapOptions options) : options_(std::move(options)) {}

  absl::Status Run(LdapPool::Retry retry,
                   absl::FunctionRef<absl::Status(LdapConnection&)> op);

 private:
  const LdapOptions options_;
  absl::Mutex mu_;
  std::unique_ptr<LdapPool> pool_ ABSL_GUARDED_BY(mu_);  // Once opened.
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LAZY_LDAP_POOL_H_
