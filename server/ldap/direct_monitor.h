// The DirectoryMonitor for dtrustd without a mirror (--directory-sync=none):
// every query searches the directory, so dtrustd serves exactly while the
// directory answers.
#ifndef DTRUST_SERVER_LDAP_DIRECT_MONITOR_H_
#define DTRUST_SERVER_LDAP_DIRECT_MONITOR_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/core/clock.h"
#include "server/core/directory_status.h"
#include "server/ldap/ldap_directory.h"

namespace dtrust {

// Reports SyncMode::kNone: serving and connected while a probe of the
// directory succeeds; no snapshot age, no counts.
//
// The probe runs inside Status(), at most once per `probe_interval`; in
// between, Status() returns the cached result. A caller arriving while a
// probe runs waits for that probe (and uses its result) instead of starting
// another, so no caller waits longer than one probe. SnapshotAge() never
// probes.
//
// Thread-safe. `probe` and `uri` are called without the monitor's lock held,
// never concurrently with themselves; `clock` is not owned and must outlive
// the monitor.
class DirectMonitor final : public DirectoryMonitor {
 public:
  // OK if the directory answered; otherwise the error (reported as
  // last_error).
  using Probe = std::function<absl::Status()>;
  // The directory URI in use, read after each probe.
  using Uri = std::function<std::string()>;

  static constexpr absl::Duration kDefaultProbeInterval = absl::Seconds(1);

  // `started`: when dtrustd started. `probe_interval` must be positive.
  DirectMonitor(Probe probe, Uri uri, absl::Time started, const Clock* clock,
                absl::Duration probe_interval = kDefaultProbeInterval);

  DirectoryStatus Status() const override;
  // Always nullopt: answers come straight from the directory.
  std::optional<absl::Duration> SnapshotAge() const override {
    return std::nullopt;
  }
  // Listeners hear of each probe whose result (serving or not) differs
  // from the last one's, and of the first. Status().recheck_at is when the
  // cached result expires: a reader following it probes once per
  // probe_interval.
  int Subscribe(Listener listener) const override {
    return listeners_.Add(std::move(listener));
  }
  void Unsubscribe(int id) const override { listeners_.Remove(id); }

 private:
  // Whether the cached result may be returned as it is.
  bool Fresh() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NotProbing() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !probing_;
  }
  DirectoryStatus Cached() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Probe probe_;
  const Uri uri_;
  const absl::Time started_;
  const Clock* const clock_;
  const absl::Duration probe_interval_;

  mutable absl::Mutex mu_;
  mutable bool probing_ ABSL_GUARDED_BY(mu_) = false;
  // When the last probe finished; nullopt before the first.
  mutable std::optional<absl::Time> probed_at_ ABSL_GUARDED_BY(mu_);
  mutable absl::Status last_probe_ ABSL_GUARDED_BY(mu_);
  mutable std::string last_uri_ ABSL_GUARDED_BY(mu_);
  mutable StatusListeners listeners_;
};

// A Probe through `directory` (not owned; must outlive the probe): one
// base-scope read of the Domain Security entry of a name under the reserved
// top-level domain .invalid (RFC 2606), which no directory holds. It needs a
// working, bound connection and is bounded by the LDAP timeout; "absent" is
// success.
DirectMonitor::Probe LdapProbe(LdapDirectory* directory);

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_DIRECT_MONITOR_H_
