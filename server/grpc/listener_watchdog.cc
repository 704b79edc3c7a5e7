#include "server/grpc/listener_watchdog.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/base/openssl_types.h"
#include "server/base/owned_fd.h"
#include "server/core/log.h"

namespace dtrust {
namespace {

// Waits for `events` on `fd` until `until`; the revents, or 0 on timeout.
int WaitFor(int fd, short events, absl::Time until) {
  pollfd entry{.fd = fd, .events = events, .revents = 0};
  while (true) {
    const int64_t left = absl::ToInt64Milliseconds(until - absl::Now());
    const int ready =
        poll(&entry, 1, static_cast<int>(std::max<int64_t>(left, 0)));
    if (ready > 0) return entry.revents;
    if (ready == 0 || errno != EINTR) return 0;
  }
}

// A wildcard address means "every local address": probe loopback.
void WildcardToLoopback(sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    auto& v4 = reinterpret_cast<sockaddr_in&>(address);
    if (v4.sin_addr.s_addr == htonl(INADDR_ANY)) {
      v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
  } else if (address.ss_family == AF_INET6) {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(address);
    if (IN6_IS_ADDR_UNSPECIFIED(&v6.sin6_addr)) v6.sin6_addr = in6addr_loopback;
  }
}

}  // namespace

std::string Http2Preface() { return "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"; }

absl::StatusOr<std::string> TlsClientHello() {
  const SslCtxPtr context(SSL_CTX_new(TLS_client_method()));
  const SslPtr ssl(context == nullptr ? nullptr : SSL_new(context.get()));
  BIO* const input = BIO_new(BIO_s_mem());
  BIO* const output = BIO_new(BIO_s_mem());
  if (ssl == nullptr || input == nullptr || output == nullptr) {
    BIO_free(input);
    BIO_free(output);
    return absl::InternalError(
        absl::StrCat("cannot make a TLS ClientHello: ", OpenSslError()));
  }
  SSL_set_bio(ssl.get(), input, output);  // `ssl` owns both now.
  SSL_connect(ssl.get());  // Writes the ClientHello, then wants to read.
  return std::string(BioContents(output));
}

absl::StatusOr<ProbeTarget> ResolveProbeTarget(const std::string& address,
                                               std::string hello) {
  const size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot probe ", address, ": not HOST:PORT"));
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int error = getaddrinfo(host.empty() ? nullptr : host.c_str(),
                                service.c_str(), &hints, &found);
  if (error != 0 || found == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot probe ", address, ": cannot resolve: ", gai_strerror(error)));
  }
  ProbeTarget target{.address = address, .hello = std::move(hello)};
  std::memcpy(&target.socket_address, found->ai_addr, found->ai_addrlen);
  target.length = found->ai_addrlen;
  freeaddrinfo(found);
  WildcardToLoopback(target.socket_address);
  return target;
}

ProbeResult ProbeListener(const ProbeTarget& target, absl::Duration deadline) {
  const absl::Time until = absl::Now() + deadline;
  OwnedFd fd(socket(target.socket_address.ss_family,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return ProbeResult::kUnknown;
  if (connect(fd.get(),
              reinterpret_cast<const sockaddr*>(&target.socket_address),
              target.length) != 0) {
    if (errno != EINPROGRESS) return ProbeResult::kNotAccepting;
    if ((WaitFor(fd.get(), POLLOUT, until) & POLLOUT) == 0) {
      return ProbeResult::kNotAccepting;
    }
    int error = 0;
    socklen_t length = sizeof(error);
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return ProbeResult::kNotAccepting;
  }
  // Written into the socket buffer whether or not the server accepted.
  send(fd.get(), target.hello.data(), target.hello.size(), MSG_NOSIGNAL);
  return WaitFor(fd.get(), POLLIN, until) != 0 ? ProbeResult::kAccepting
                                               : ProbeResult::kNotAccepting;
}

absl::StatusOr<std::unique_ptr<ListenerWatchdog>> ListenerWatchdog::Start(
    const std::vector<std::string>& addresses, bool tls, const Options& options,
    StuckCallback on_stuck) {
  std::string hello = Http2Preface();
  if (tls) {
    absl::StatusOr<std::string> client_hello = TlsClientHello();
    if (!client_hello.ok()) return client_hello.status();
    hello = *std::move(client_hello);
  }
  std::vector<ProbeTarget> targets;
  for (const std::string& address : addresses) {
    absl::StatusOr<ProbeTarget> target = ResolveProbeTarget(address, hello);
    if (!target.ok()) return target.status();
    targets.push_back(*std::move(target));
  }
  std::unique_ptr<ListenerWatchdog> watchdog(
      new ListenerWatchdog(std::move(targets), options, std::move(on_stuck)));
  watchdog->thread_ = std::thread([raw = watchdog.get()] { raw->Run(); });
  return watchdog;
}

ListenerWatchdog::~ListenerWatchdog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void ListenerWatchdog::Run() {
  std::vector<int> failures(targets_.size(), 0);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.period)) {
        return;
      }
    }
    for (size_t i = 0; i < targets_.size(); ++i) {
      switch (ProbeListener(targets_[i], options_.deadline)) {
        case ProbeResult::kAccepting:
          failures[i] = 0;
          break;
        case ProbeResult::kUnknown:
          break;
        case ProbeResult::kNotAccepting:
          if (++failures[i] < options_.failures) break;
          on_stuck_(targets_[i].address);
          return;
      }
    }
  }
}

}  // namespace dtrust
