#include "server/core/trust_hygiene.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace dtrust {
namespace {

// The latest end of the pins of `server` valid at `now`, if any is.
std::optional<absl::Time> LatestValidEnd(const ServerRecord& server,
                                         absl::Time now) {
  std::optional<absl::Time> latest;
  for (const PinRecord& pin : server.pins) {
    if (!PinValidAt(pin, now)) continue;
    latest = std::max(latest.value_or(absl::InfinitePast()), PinEnd(pin));
  }
  return latest;
}

// Counts `policy` on the lists it is on.
void CountLists(const DomainPolicy& policy, TrustHygiene* hygiene) {
  if (policy.send == SecureMode::kEnforce) ++hygiene->send_enforce;
  if (policy.send == SecureMode::kTesting) ++hygiene->send_testing;
  if (policy.receive == SecureMode::kEnforce) ++hygiene->receive_enforce;
  if (policy.receive == SecureMode::kTesting) ++hygiene->receive_testing;
}

}  // namespace

absl::Time PinEnd(const PinRecord& pin) {
  return pin.window.not_after ? std::min(pin.not_after, *pin.window.not_after)
                              : pin.not_after;
}

bool PinValidAt(const PinRecord& pin, absl::Time now) {
  return pin.not_before <= now && now <= pin.not_after &&
         pin.window.Contains(now);
}

TrustHygiene TrustHygieneOf(const std::vector<ServerRecord>& servers,
                            const std::vector<DomainPolicy>& policies,
                            absl::Time now,
                            const std::vector<absl::Duration>& horizons) {
  TrustHygiene hygiene;
  hygiene.pins_expiring.assign(horizons.size(), 0);
  hygiene.listed_domains_last_pin_expiring.assign(horizons.size(), 0);
  // Each domain's latest end of a valid pin, over the servers serving it.
  absl::flat_hash_map<std::string, absl::Time> domain_end;
  for (const ServerRecord& server : servers) {
    for (const PinRecord& pin : server.pins) {
      if (!PinValidAt(pin, now)) continue;
      for (size_t i = 0; i < horizons.size(); ++i) {
        if (PinEnd(pin) <= now + horizons[i]) ++hygiene.pins_expiring[i];
      }
    }
    const std::optional<absl::Time> end = LatestValidEnd(server, now);
    if (!end) {
      ++hygiene.servers_without_valid_pin;
      continue;
    }
    for (const std::string& domain : server.domains) {
      auto [it, inserted] = domain_end.try_emplace(domain, *end);
      if (!inserted) it->second = std::max(it->second, *end);
    }
  }
  for (const DomainPolicy& policy : policies) {
    CountLists(policy, &hygiene);
    if (policy.send == SecureMode::kOff && policy.receive == SecureMode::kOff) {
      continue;
    }
    const auto end = domain_end.find(policy.domain);
    if (end == domain_end.end()) {
      ++hygiene.listed_domains_without_valid_pin;
      continue;
    }
    for (size_t i = 0; i < horizons.size(); ++i) {
      if (end->second <= now + horizons[i]) {
        ++hygiene.listed_domains_last_pin_expiring[i];
      }
    }
  }
  return hygiene;
}

}  // namespace dtrust
