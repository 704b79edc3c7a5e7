// dtrustd's Postfix socketmap service for smtp_tls_policy_maps: each lookup
// goes to the core's OutboundPolicy, each answer back as a netstring.
#ifndef DTRUST_SERVER_POSTFIX_SOCKETMAP_SERVICE_H_
#define DTRUST_SERVER_POSTFIX_SOCKETMAP_SERVICE_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/core/clock.h"
#include "server/core/log_rate_limiter.h"
#include "server/core/outbound_policy.h"
#include "server/postfix/stream_server.h"

namespace dtrust {

// Postfix closes idle socketmap connections after 10 s; an idle client that
// is not Postfix is closed after this.
inline constexpr absl::Duration kSocketmapIdleTimeout = absl::Seconds(60);

// Thread-safe. Does not own `policy` nor `clock`, which must outlive it and
// its sessions.
class SocketmapService {
 public:
  // `map_name`: the only NAME accepted in "NAME KEY" requests (others get
  // "PERM unknown map NAME"); empty accepts any. `clock` times the log rate
  // limits.
  SocketmapService(OutboundPolicy* policy, std::string map_name,
                   const Clock* clock = Clock::Real())
      : policy_(policy),
        map_name_(std::move(map_name)),
        answer_lines_(kClientLogLinesPerSecond, clock),
        failure_lines_(kClientLogLinesPerSecond, clock) {}

  // The session of one connection from `peer`: answers pipelined requests in
  // order; logs every answer that concerns a Domain Security list and every
  // PERM and TEMP (at most kClientLogLinesPerSecond answers and as many
  // failures a second, then how many were left out); closes on a bad
  // netstring.
  std::unique_ptr<StreamSession> NewSession(absl::string_view peer);

 private:
  class Session;

  // The reply data for one request's data.
  std::string Answer(absl::string_view request, absl::string_view peer);

  OutboundPolicy* const policy_;
  const std::string map_name_;
  // Answers for a domain on the send list.
  LogRateLimiter answer_lines_;
  // TEMP (directory unavailable, nothing valid published, answer too long)
  // and PERM (not "NAME KEY", unknown map) answers.
  LogRateLimiter failure_lines_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_POSTFIX_SOCKETMAP_SERVICE_H_
