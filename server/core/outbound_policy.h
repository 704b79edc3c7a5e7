// Outbound Domain Security: which certificates must the next hop present?
// The decision behind Postfix's smtp_tls_policy_maps socketmap
// (server/postfix), independent of the protocol.
#ifndef DTRUST_SERVER_CORE_OUTBOUND_POLICY_H_
#define DTRUST_SERVER_CORE_OUTBOUND_POLICY_H_

#include <string>

#include "absl/strings/string_view.h"
#include "server/core/clock.h"
#include "server/core/directory.h"

namespace dtrust {

struct TlsPolicyAnswer {
  enum class Kind {
    kFound,     // `policy` is the TLS policy, e.g. "fingerprint match=A|B".
    kNotFound,  // Not on the send list: the MTA's default TLS level applies.
    kTempFail,  // Try again later (mail stays queued); `reason` says why.
  };
  Kind kind = Kind::kNotFound;
  std::string policy{};
  std::string reason{};
  std::string log{};  // One line for the log when the key concerned a list.
};

// Answers a Postfix smtp_tls_policy_maps key:
// - "domain": its send policy. Enforce: "fingerprint match=..." with the
//   SHA-256 of every certificate pinned for the domain's servers that is
//   within its validity and its pin window, and the SPKI SHA-256 of every
//   key pin within its window; none → kTempFail, never kNotFound. Testing:
//   "may", logged. Not listed: kNotFound.
// - "[host]:port", "[host]", "host:port" (the next hop of a transport or
//   relayhost): host as a listed domain as above; else host as a published
//   server of a send-secure domain: that server's pins only; IP literals and
//   anything else: kNotFound.
// - ".parent.domain" (Postfix's parent-domain probe): kNotFound; the lists
//   name exact domains.
// - directory unavailable: kTempFail.
// Thread-safe; does not own its arguments, which must outlive it.
class OutboundPolicy {
 public:
  OutboundPolicy(Directory* directory, const Clock* clock)
      : directory_(directory), clock_(clock) {}

  TlsPolicyAnswer Lookup(absl::string_view key);

 private:
  Directory* const directory_;
  const Clock* const clock_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_OUTBOUND_POLICY_H_
