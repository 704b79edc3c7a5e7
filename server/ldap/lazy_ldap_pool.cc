#include "server/ldap/lazy_ldap_pool.h"

#include "server/base/status_macros.h"

namespace dtrust {

absl::Status LazyLdapPool::Run(
    LdapPool::Retry retry,
    absl::FunctionRef<absl::Status(LdapConnection&)> op) {
  LdapPool* pool = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (pool_ == nullptr) {
      DTRUST_ASSIGN_OR_RETURN(std::unique_ptr<LdapConnection> connection,
                              LdapConnection::Open(options_));
      pool_ = std::make_unique<LdapPool>(options_, std::move(connection));
    }
    pool = pool_.get();  // Never replaced once set.
  }
  return pool->Run(retry, op);
}

}  // namespace dtrust
