// dtrustd's Postfix socketmap service for smtp_tls_policy_maps: each lookup
// goes to the core's OutboundPolicy, each answer back as a netstring.
#ifndef DTRUST_SERVER_POSTFIX_SOCKETMAP_SERVICE_H_
#define DTRUST_SERVER_POSTFIX_SOCKETMAP_SERVICE_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/core/outbound_policy.h"
#include "server/postfix/stream_server.h"

namespace dtrust {

// Postfix closes idle socketmap connections after 10 s; an idle client that
// is not Postfix is closed after this.
inline constexpr absl::Duration kSocketmapIdleTimeout = absl::Seconds(60);

// Thread-safe. Does not own `policy`, which must outlive it and its sessions.
class SocketmapService {
 public:
  // `map_name`: the only NAME accepted in "NAME KEY" requests (others get
  // "PERM unknown map NAME"); empty accepts any.
  SocketmapService(OutboundPolicy* policy, std::string map_name)
      : policy_(policy), map_name_(std::move(map_name)) {}

  // The session of one connection from `peer`: answers pipelined requests in
  // order; logs every answer that concerns a Domain Security list and every
  // PERM; closes on a bad netstring.
  std::unique_ptr<StreamSession> NewSession(absl::string_view peer);

 private:
  class Session;

  // The reply data for one request's data.
  std::string Answer(absl::string_view request, absl::string_view peer);

  OutboundPolicy* const policy_;
  const std::string map_name_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_POSTFIX_SOCKETMAP_SERVICE_H_
