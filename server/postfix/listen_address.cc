#include "server/postfix/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace dtrust {
namespace {

absl::Status Invalid(absl::string_view text, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("listen address \"", text, "\": ", what,
                   " (expected inet:HOST:PORT or unix:PATH)"));
}

bool IsNumericAddress(const std::string& host) {
  in6_addr storage;
  return inet_pton(AF_INET, host.c_str(), &storage) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &storage) == 1;
}

}  // namespace

std::string ListenAddress::ToString() const {
  if (kind == Kind::kUnix) return absl::StrCat("unix:", path);
  if (absl::StrContains(host, ':')) {
    return absl::StrCat("inet:[", host, "]:", port);
  }
  return absl::StrCat("inet:", host, ":", port);
}

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text) {
  ListenAddress address;
  if (absl::StartsWith(text, "unix:")) {
    address.kind = ListenAddress::Kind::kUnix;
    address.path = std::string(text.substr(5));
    if (address.path.empty()) return Invalid(text, "the path is empty");
    if (address.path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return Invalid(
          text, absl::StrCat("the path is longer than ",
                             sizeof(sockaddr_un{}.sun_path) - 1, " bytes"));
    }
    if (absl::StrContains(address.path, '\0')) {
      return Invalid(text, "the path contains a NUL byte");
    }
    return address;
  }
  if (!absl::StartsWith(text, "inet:")) {
    return Invalid(text, "unknown address type");
  }
  const absl::string_view rest = text.substr(5);
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) return Invalid(text, "no port");
  absl::string_view host = rest.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  } else if (absl::StrContains(host, ':')) {
    return Invalid(text, "an IPv6 address must be in brackets");
  }
  address.host = std::string(host);
  if (!IsNumericAddress(address.host)) {
    return Invalid(text, "the host is not a numeric IPv4 or IPv6 address");
  }
  const absl::string_view port = rest.substr(colon + 1);
  uint32_t number = 0;
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port, &number) || number > 65535) {
    return Invalid(text, "the port is not a number from 0 to 65535");
  }
  address.port = static_cast<uint16_t>(number);
  return address;
}

}  // namespace dtrust
