// Where a Postfix-facing service listens: Postfix's own endpoint syntax,
// "inet:HOST:PORT" or "unix:PATH".
#ifndef DTRUST_SERVER_POSTFIX_LISTEN_ADDRESS_H_
#define DTRUST_SERVER_POSTFIX_LISTEN_ADDRESS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dtrust {

struct ListenAddress {
  enum class Kind { kInet, kUnix };
  Kind kind = Kind::kInet;
  // kInet: a numeric IPv4 or IPv6 address (no brackets) and a port; port 0
  // lets the kernel choose one.
  std::string host{};
  uint16_t port = 0;
  // kUnix: the socket file's path.
  std::string path{};

  // "inet:127.0.0.1:10040", "inet:[::1]:10040" or "unix:/run/x.sock".
  std::string ToString() const;

  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// Parses "inet:HOST:PORT" (HOST numeric; IPv6 in brackets) or "unix:PATH"
// (PATH at most 107 bytes, the limit of sockaddr_un). InvalidArgument naming
// `text` and what is wrong otherwise.
absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text);

}  // namespace dtrust

#endif  // DTRUST_SERVER_POSTFIX_LISTEN_ADDRESS_H_
