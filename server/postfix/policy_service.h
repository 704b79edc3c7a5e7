// dtrustd's Postfix policy delegation service (check_policy_service): each
// request becomes an InboundQuery for the core's InboundPolicy, each
// decision an "action=..." reply.
#ifndef DTRUST_SERVER_POSTFIX_POLICY_SERVICE_H_
#define DTRUST_SERVER_POSTFIX_POLICY_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "server/core/clock.h"
#include "server/core/inbound_policy.h"
#include "server/core/log_rate_limiter.h"
#include "server/postfix/policy_protocol.h"
#include "server/postfix/stream_server.h"

namespace dtrust {

// Postfix keeps policy connections open between requests; this is how long
// an idle one stays open here by default. Longer than Postfix's own
// smtpd_policy_service_max_idle (300 s), so that Postfix, not dtrustd,
// closes a healthy idle connection: closed by dtrustd just as an smtpd
// sends a request, the request fails and smtpd must reconnect and retry.
inline constexpr absl::Duration kPolicyIdleTimeout = absl::Seconds(330);

// Thread-safe. Does not own `policy` nor `clock`, which must outlive it and
// its sessions.
class PolicyService {
 public:
  // `clock` times the log rate limits.
  explicit PolicyService(InboundPolicy* policy,
                         const Clock* clock = Clock::Real())
      : policy_(policy),
        decision_lines_(kClientLogLinesPerSecond, clock),
        failure_lines_(kClientLogLinesPerSecond, clock) {}

  // The session of one connection from `peer`: answers pipelined requests in
  // order; logs every decision that concerns a Domain Security list (at most
  // kClientLogLinesPerSecond a second, and as many deferrals and misplaced
  // requests, then how many were left out); closes on malformed input. Asks for
  // the X-DirectTrust header at most once per message (`instance`), however
  // many recipients it has. A PREPEND decision at END-OF-MESSAGE, where Postfix
  // cannot prepend, is answered DUNNO with a warning.
  std::unique_ptr<StreamSession> NewSession(absl::string_view peer);

 private:
  class Session;

  // Answers one request on behalf of a session.
  std::string Answer(const PolicyQuery& request, absl::string_view peer,
                     std::string* header_instance);

  InboundPolicy* const policy_;
  // Decisions any client can ask for at will: domain-secured, rejected,
  // testing mode.
  LogRateLimiter decision_lines_;
  // Deferrals (directory unavailable) and header requests at END-OF-MESSAGE.
  LogRateLimiter failure_lines_;
  // Whether the MD5-fingerprint warning was logged (once per process).
  std::atomic<bool> warned_unusable_fingerprint_{false};
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_POSTFIX_POLICY_SERVICE_H_
