// Postfix's policy delegation protocol (SMTPD_POLICY_README), as pure
// functions: requests are "name=value" lines ending with an empty line, the
// reply is "action=..." and an empty line. No sockets here.
#ifndef DTRUST_SERVER_POSTFIX_POLICY_PROTOCOL_H_
#define DTRUST_SERVER_POSTFIX_POLICY_PROTOCOL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/core/inbound_policy.h"

namespace dtrust {

// Bounds on one request. Postfix 3.7 sends about 35 attributes; SMTP command
// lines, where most values come from, are at most 2048 bytes
// (line_length_limit).
inline constexpr size_t kMaxPolicyLineBytes = 8192;  // Without the newline.
inline constexpr size_t kMaxPolicyAttributes = 128;
inline constexpr size_t kMaxPolicyRequestBytes = 64 * 1024;

// One request's attributes by name.
using PolicyAttributes = absl::flat_hash_map<std::string, std::string>;

// Splits a byte stream into requests. Memory stays within the bounds above
// whatever the input. Thread-compatible.
class PolicyRequestReader {
 public:
  // Consumes the next bytes of the stream (split anywhere) and appends every
  // request they complete to `*requests`. InvalidArgument saying what is
  // wrong for: a line without '=' or with an empty name; a control character
  // or NUL byte (other than TAB) in a line; a line, request or attribute
  // count over the bounds; an attribute given twice; an empty request. After
  // an error the stream is broken: do not call again.
  absl::Status Consume(absl::string_view data,
                       std::vector<PolicyAttributes>* requests);

  // True when bytes of an unfinished request are pending (e.g. the peer
  // stopped without the empty line).
  bool mid_request() const { return !line_.empty() || !attributes_.empty(); }

 private:
  // Adds one complete line (without its newline) to the current request,
  // moving the request to `*requests` when the line is empty.
  absl::Status AddLine(absl::string_view line,
                       std::vector<PolicyAttributes>* requests);

  std::string line_;  // The current line so far, without its newline.
  PolicyAttributes attributes_;  // The current request so far.
  size_t request_bytes_ = 0;     // Bytes of the current request so far.
};

// A request as dtrust uses it.
struct PolicyQuery {
  // sender, client_name, client_address, helo_name; tls when
  // encryption_protocol is non-empty; the two fingerprints when they are
  // SHA-256. `header_added` is left false: the connection tracks it.
  InboundQuery query{};
  std::string instance{};        // Unique per message; may be empty.
  std::string protocol_state{};  // "RCPT", "DATA", "END-OF-MESSAGE", ...
  // Fingerprint attributes present but not SHA-256 (Postfix uses MD5 below
  // compatibility_level 3.6), as "name=value"; treated as absent.
  std::vector<std::string> unusable_fingerprints{};
};

// InvalidArgument unless `request` is "smtpd_access_policy" (Postfix always
// sends it first). Unknown attributes are ignored.
absl::StatusOr<PolicyQuery> PolicyQueryFromAttributes(
    const PolicyAttributes& attributes);

// The complete reply, "action=...\n\n", never with an empty action: kDunno →
// DUNNO; kPrepend → "PREPEND <header>" (DUNNO if the header is empty);
// kReject / kDefer → the decision's reply, or a generic 451 4.3.0 if it is
// empty. Line breaks inside header or reply become spaces.
std::string FormatPolicyReply(const InboundDecision& decision);

}  // namespace dtrust

#endif  // DTRUST_SERVER_POSTFIX_POLICY_PROTOCOL_H_
