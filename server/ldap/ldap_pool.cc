#include "server/ldap/ldap_pool.h"

#include <ldap.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/base/status_macros.h"
#include "server/core/log.h"

namespace dtrust {

LdapPool::LdapPool(const LdapOptions& options,
                   std::unique_ptr<LdapConnection> first)
    : options_(options), open_(1), uri_(first->uri()) {
  idle_.push_back(std::move(first));
}

std::string LdapPool::connected_uri() const {
  absl::MutexLock lock(&mu_);
  return uri_;
}

bool LdapPool::CanTake() const {
  return !idle_.empty() || open_ < options_.connections;
}

absl::StatusOr<std::unique_ptr<LdapConnection>> LdapPool::Take(bool& fresh) {
  const LdapPool* self = this;
  if (!mu_.LockWhenWithTimeout(absl::Condition(self, &LdapPool::CanTake),
                               options_.timeout)) {
    mu_.Unlock();
    return absl::UnavailableError(absl::StrCat(
        "all ", options_.connections, " LDAP connections stayed busy for ",
        absl::FormatDuration(options_.timeout)));
  }
  if (!idle_.empty()) {
    std::unique_ptr<LdapConnection> connection = std::move(idle_.back());
    idle_.pop_back();
    mu_.Unlock();
    fresh = false;
    return connection;
  }
  ++open_;  // Holds the slot while connecting without the lock.
  mu_.Unlock();

  absl::StatusOr<std::unique_ptr<LdapConnection>> connection =
      LdapConnection::Open(options_);
  absl::MutexLock lock(&mu_);
  if (!connection.ok()) {
    --open_;
    return connection.status();
  }
  const std::string& uri = (*connection)->uri();
  if (uri != uri_) {
    LogWarning("LDAP: failed over to ", uri, " as ", (*connection)->identity(),
               " (was ", uri_, ")");
  } else if (lost_since_open_) {
    LogInfo("LDAP: reconnected to ", uri, " as ", (*connection)->identity());
  }
  uri_ = uri;
  lost_since_open_ = false;
  fresh = true;
  return connection;
}

void LdapPool::Give(std::unique_ptr<LdapConnection> connection) {
  std::vector<std::unique_ptr<LdapConnection>> dropped;
  {
    absl::MutexLock lock(&mu_);
    if (!connection->lost()) {
      idle_.push_back(std::move(connection));
      return;
    }
    // The others most likely went down with it (server restart): reconnect
    // them all rather than fail on each in turn.
    dropped.swap(idle_);
    open_ -= 1 + static_cast<int>(dropped.size());
    lost_since_open_ = true;
  }
  LogWarning("LDAP: connection to ", connection->uri(), " lost (",
             ldap_err2string(connection->lost_code()), "); dropping it and ",
             dropped.size(), " idle ones, reconnecting on next use");
  // `connection` and `dropped` are closed here, outside the lock.
}

absl::Status LdapPool::Run(
    Retry retry, absl::FunctionRef<absl::Status(LdapConnection&)> op) {
  for (int attempt = 0;; ++attempt) {
    bool fresh = false;
    DTRUST_ASSIGN_OR_RETURN(std::unique_ptr<LdapConnection> connection,
                            Take(fresh));
    absl::Status status = op(*connection);
    const int lost_code = connection->lost_code();
    Give(std::move(connection));
    // A reused connection the server closed meanwhile; not a timeout, which
    // would only double the wait.
    const bool stale = !fresh && (lost_code == LDAP_SERVER_DOWN ||
                                  lost_code == LDAP_CONNECT_ERROR);
    if (retry == Retry::kOnceIfStale && attempt == 0 && stale) continue;
    return status;
  }
}

}  // namespace dtrust
