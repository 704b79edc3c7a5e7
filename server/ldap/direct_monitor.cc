#include "server/ldap/direct_monitor.h"

#include <utility>

namespace dtrust {
namespace {

// Under .invalid (RFC 2606): guaranteed not to be a real mail domain.
constexpr absl::string_view kProbeDomain = "dtrust-probe.invalid";

}  // namespace

DirectMonitor::DirectMonitor(Probe probe, Uri uri, absl::Time started,
                             const Clock* clock, absl::Duration probe_interval)
    : probe_(std::move(probe)),
      uri_(std::move(uri)),
      started_(started),
      clock_(clock),
      probe_interval_(probe_interval) {}

bool DirectMonitor::Fresh() const {
  return probed_at_.has_value() &&
         clock_->Now() - *probed_at_ < probe_interval_;
}

DirectoryStatus DirectMonitor::Cached() const {
  DirectoryStatus status;
  status.mode = SyncMode::kNone;
  status.serving = last_probe_.ok();
  status.connected = last_probe_.ok();
  status.uri = last_uri_;
  status.last_error = std::string(last_probe_.message());
  status.started = started_;
  if (probed_at_) status.recheck_at = *probed_at_ + probe_interval_;
  return status;
}

DirectoryStatus DirectMonitor::Status() const {
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &DirectMonitor::NotProbing));
    if (Fresh()) return Cached();
    probing_ = true;
  }
  absl::Status result = probe_();
  std::string uri = uri_();
  DirectoryStatus status;
  bool changed;
  {
    absl::MutexLock lock(&mu_);
    changed = !probed_at_ || last_probe_.ok() != result.ok();
    probing_ = false;
    probed_at_ = clock_->Now();
    last_probe_ = std::move(result);
    last_uri_ = std::move(uri);
    status = Cached();
  }
  if (changed) listeners_.Notify();
  return status;
}

DirectMonitor::Probe LdapProbe(LdapDirectory* directory) {
  return [directory]() -> absl::Status {
    return directory->GetDomainPolicy(kProbeDomain).status();
  };
}

}  // namespace dtrust
