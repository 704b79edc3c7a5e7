// Keeps a Mirror equal to the directory with LDAP Content Synchronization
// (RFC 4533, refreshAndPersist; OpenLDAP's syncprov overlay).
//
// A background thread connects to the first URI that answers (in order),
// runs one persistent sync search over the base DN for the dtrust entries
// (servers, pins, domain policies) and applies what the directory sends:
// the initial content or, when resuming with a cookie, only what changed
// (a present phase with its sweep of what was not confirmed present, or a
// delete phase), then every change as it is committed. Pins are verified
// as LdapDirectory verifies them (ldap_records.h): an entry whose DER does
// not match its digest attributes is never indexed (and removed if it was).
//
// Liveness: a session that has been silent for `probe_interval` is probed
// with a base search on the same connection; no answer within the LDAP
// timeout ends the session (a hung server counts as down). While a session
// is in its persist stage the mirror is live (age zero); when it ends the
// data ages from its last sign of life, and the thread reconnects with
// jittered exponential backoff, resuming from the last cookie (also on
// another URI: multi-provider replicas share cookies). e-syncRefreshRequired
// drops the cookie and reloads in full, the old data serving meanwhile.
// Queries never wait on any of this: they read the mirror.
#ifndef DTRUST_SERVER_LDAP_LDAP_SYNC_SOURCE_H_
#define DTRUST_SERVER_LDAP_LDAP_SYNC_SOURCE_H_

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/core/clock.h"
#include "server/ldap/ldap_connection.h"
#include "server/mirror/mirror.h"

namespace dtrust {

struct LdapSyncOptions {
  LdapOptions ldap{};  // URIs, base DN, bind; `timeout` bounds each step.
  absl::Duration probe_interval = absl::Seconds(1);
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
};

// Owns its thread; the destructor stops it within about a quarter second
// plus one LDAP connect timeout. Does not own `mirror` or `clock`, which
// must outlive it.
class LdapSyncSource {
 public:
  // Starts the thread and returns at once; the mirror reports when the
  // first load is complete. InvalidArgument for unusable options.
  static absl::StatusOr<std::unique_ptr<LdapSyncSource>> Start(
      const LdapSyncOptions& options, Mirror* mirror, const Clock* clock);

  ~LdapSyncSource();
  LdapSyncSource(const LdapSyncSource&) = delete;
  LdapSyncSource& operator=(const LdapSyncSource&) = delete;

 private:
  class Session;

  LdapSyncSource(const LdapSyncOptions& options, Mirror* mirror,
                 const Clock* clock);
  void Run();

  const LdapSyncOptions options_;
  Mirror* const mirror_;
  const Clock* const clock_;
  absl::Notification stop_;
  // Only the thread touches it: the cookie to resume from.
  std::optional<std::string> cookie_;
  std::thread thread_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_SYNC_SOURCE_H_
