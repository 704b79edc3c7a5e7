// How healthy the published trust is: pins about to end, partner domains
// on a Domain Security list without a pin that verifies. What an admin must
// act on before mail stops (dtrustd's metrics and alerts report it).
#ifndef DTRUST_SERVER_CORE_TRUST_HYGIENE_H_
#define DTRUST_SERVER_CORE_TRUST_HYGIENE_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "server/core/directory.h"
#include "server/core/domain_security.h"

namespace dtrust {

// When a pin stops verifying: the earlier of its certificate's notAfter and
// its window's end.
absl::Time PinEnd(const PinRecord& pin);

// Whether `pin` verifies at `now`: within its certificate's validity and its
// window.
bool PinValidAt(const PinRecord& pin, absl::Time now);

// Counts over every server and Domain Security policy at one instant.
// A "listed" domain is on the send or receive list (enforce or testing);
// its pins are those of the servers that serve it.
struct TrustHygiene {
  // Per horizon of TrustHygieneOf's `horizons`, in order: pins valid now
  // that end within it.
  std::vector<uint64_t> pins_expiring;
  // Per horizon: listed domains with a valid pin now, every one of which
  // ends within it (the domain then has no valid pin).
  std::vector<uint64_t> listed_domains_last_pin_expiring;
  // Listed domains with no pin valid now.
  uint64_t listed_domains_without_valid_pin = 0;
  // Servers with no pin valid now.
  uint64_t servers_without_valid_pin = 0;
  // Domains per list and mode: [send, receive] x [enforce, testing].
  uint64_t send_enforce = 0;
  uint64_t send_testing = 0;
  uint64_t receive_enforce = 0;
  uint64_t receive_testing = 0;
};

// The hygiene of `servers` and `policies` at `now` for each of `horizons`
// (e.g. 7, 14 and 30 days). Linear in servers, pins and policies.
TrustHygiene TrustHygieneOf(const std::vector<ServerRecord>& servers,
                            const std::vector<DomainPolicy>& policies,
                            absl::Time now,
                            const std::vector<absl::Duration>& horizons);

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_TRUST_HYGIENE_H_
