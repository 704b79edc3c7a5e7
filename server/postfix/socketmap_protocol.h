// Postfix's socketmap protocol (socketmap_table(5)), as pure functions:
// netstrings "LEN:DATA," carrying requests "NAME KEY" and replies
// "OK DATA" | "NOTFOUND " | "TEMP REASON" | "PERM REASON". No sockets here.
#ifndef DTRUST_SERVER_POSTFIX_SOCKETMAP_PROTOCOL_H_
#define DTRUST_SERVER_POSTFIX_SOCKETMAP_PROTOCOL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/core/outbound_policy.h"

namespace dtrust {

// Postfix's limit on a socketmap netstring's data, requests and replies.
inline constexpr size_t kMaxNetstringBytes = 100000;

// Splits a byte stream into netstrings. Memory stays within
// kMaxNetstringBytes plus a few bytes whatever the input. Thread-compatible.
class NetstringReader {
 public:
  // Consumes the next bytes of the stream (split anywhere) and appends the
  // data of every netstring they complete to `*payloads`. InvalidArgument
  // saying what is wrong for: a length that is empty, not decimal digits,
  // has a leading zero, or exceeds kMaxNetstringBytes; a missing ':' or
  // ','. After an error the stream is broken: do not call again.
  absl::Status Consume(absl::string_view data,
                       std::vector<std::string>* payloads);

  // True when bytes of an unfinished netstring are pending.
  bool mid_netstring() const { return state_ != State::kLength || digits_; }

 private:
  enum class State { kLength, kData, kComma };
  State state_ = State::kLength;
  size_t length_ = 0;  // The length being read, then the one announced.
  size_t digits_ = 0;  // Digits of the length read so far.
  std::string data_;   // The current netstring's data so far.
};

// "LEN:DATA,".
std::string FormatNetstring(absl::string_view data);

struct SocketmapRequest {
  std::string name{};  // The NAME of Postfix's socketmap:...:NAME.
  std::string key{};
};

// Splits "NAME KEY" at the first space. InvalidArgument if there is none or
// the name is empty.
absl::StatusOr<SocketmapRequest> ParseSocketmapRequest(absl::string_view data);

// The reply data (not yet a netstring) for `answer`: "OK <policy>",
// "NOTFOUND " or "TEMP <reason>". ResourceExhausted, naming the size, when
// it would exceed kMaxNetstringBytes (answer that with SocketmapTemp).
absl::StatusOr<std::string> FormatSocketmapAnswer(
    const TlsPolicyAnswer& answer);

// "TEMP <reason>" and "PERM <reason>", the reason cut to fit the limit.
std::string SocketmapTemp(absl::string_view reason);
std::string SocketmapPerm(absl::string_view reason);

}  // namespace dtrust

#endif  // DTRUST_SERVER_POSTFIX_SOCKETMAP_PROTOCOL_H_
