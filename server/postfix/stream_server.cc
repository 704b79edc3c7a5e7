#include "server/postfix/stream_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/base/owned_fd.h"
#include "server/base/unix_socket.h"
#include "server/core/log.h"

namespace dtrust {
namespace {

constexpr int kListenBacklog = 128;
constexpr size_t kReadChunkBytes = 16 * 1024;

absl::Status SocketError(const ListenAddress& address, absl::string_view what,
                         int error) {
  return absl::ErrnoToStatus(
      error, absl::StrCat(address.ToString(), ": cannot ", what));
}

std::string ErrnoText(int error) {
  char buffer[256];
  return strerror_r(error, buffer, sizeof(buffer));  // GNU: returns the text.
}

void SetTimeout(int fd, int option, absl::Duration timeout) {
  const timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv));
}

// Binds an inet socket; `*address` gets the port the kernel chose.
absl::StatusOr<OwnedFd> BindInet(ListenAddress* address) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address->host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address->port);
    length = sizeof(*v4);
  } else if (inet_pton(AF_INET6, address->host.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address->port);
    length = sizeof(*v6);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        address->ToString(), ": the host is not a numeric IP address"));
  }
  OwnedFd fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return SocketError(*address, "create a socket", errno);
  const int on = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (family == AF_INET6) {
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
  }
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    return SocketError(*address, "bind", errno);
  }
  if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&storage), &length) !=
      0) {
    return SocketError(*address, "read the bound port", errno);
  }
  address->port = ntohs(family == AF_INET ? v4->sin_port : v6->sin6_port);
  return fd;
}

absl::StatusOr<OwnedFd> BindUnix(const ListenAddress& address,
                                 struct stat* made) {
  bool removed_stale = false;
  absl::StatusOr<OwnedFd> fd =
      BindUnixSocket(address.path, kUnixSocketMode, made, &removed_stale);
  if (removed_stale) LogInfo("removed stale socket ", address.path);
  return fd;
}

std::string PeerName(int fd, const sockaddr_storage& addr) {
  if (addr.ss_family == AF_UNIX) {
    ucred credentials{};
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0) {
      return absl::StrCat("unix pid ", credentials.pid, " uid ",
                          credentials.uid);
    }
    return "unix peer";
  }
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
    return absl::StrCat(host, ":", ntohs(v4->sin_port));
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
  return absl::StrCat("[", host, "]:", ntohs(v6->sin6_port));
}

// Sends all of `data`; false (with the reason in `*error`) if the peer is
// gone, does not read within the send timeout, or the server shuts it down.
bool SendAll(int fd, absl::string_view data, std::string* error) {
  while (!data.empty()) {
    const ssize_t sent = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      *error = errno == EAGAIN || errno == EWOULDBLOCK
                   ? "it does not read its replies"
                   : ErrnoText(errno);
      return false;
    }
    data.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StreamServer>> StreamServer::Start(
    const ListenAddress& address, StreamServerOptions options,
    StreamSessionFactory factory) {
  ListenAddress bound = address;
  struct stat made {};
  absl::StatusOr<OwnedFd> fd = address.kind == ListenAddress::Kind::kUnix
                                   ? BindUnix(address, &made)
                                   : BindInet(&bound);
  if (!fd.ok()) return fd.status();
  if (listen(fd->get(), kListenBacklog) != 0) {
    const int error = errno;
    fd->reset();
    if (address.kind == ListenAddress::Kind::kUnix) {
      unlink(address.path.c_str());
    }
    return SocketError(address, "listen", error);
  }
  std::unique_ptr<StreamServer> server(
      new StreamServer(std::move(bound), std::move(options), std::move(factory),
                       *std::move(fd), made.st_dev, made.st_ino));
  server->accept_thread_ =
      std::thread([raw = server.get()] { raw->AcceptLoop(); });
  return server;
}

StreamServer::StreamServer(ListenAddress address, StreamServerOptions options,
                           StreamSessionFactory factory, OwnedFd listen_fd,
                           dev_t unix_dev, ino_t unix_ino)
    : address_(std::move(address)),
      options_(std::move(options)),
      factory_(std::move(factory)),
      listen_fd_(std::move(listen_fd)),
      unix_dev_(unix_dev),
      unix_ino_(unix_ino) {}

StreamServer::~StreamServer() { Stop(); }

void StreamServer::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    if (stopping_) {
      mutex_.Await(absl::Condition(&stopped_));
      return;
    }
    stopping_ = true;
  }
  // Wakes the blocked accept() (Linux: it fails with EINVAL).
  shutdown(listen_fd_.get(), SHUT_RDWR);
  accept_thread_.join();
  listen_fd_.reset();
  if (address_.kind == ListenAddress::Kind::kUnix) {
    struct stat made {};
    made.st_dev = unix_dev_;
    made.st_ino = unix_ino_;
    RemoveUnixSocket(address_.path, made);
  }
  std::vector<std::thread> finished;
  {
    absl::MutexLock lock(&mutex_);
    for (auto& [id, connection] : connections_) {
      shutdown(connection.fd, SHUT_RDWR);
    }
    auto all_ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      return connections_.empty();
    };
    mutex_.Await(absl::Condition(&all_ended));
    finished.swap(finished_);
  }
  for (std::thread& thread : finished) thread.join();
  absl::MutexLock lock(&mutex_);
  stopped_ = true;
}

void StreamServer::AcceptLoop() {
  int last_error = 0;
  while (true) {
    sockaddr_storage addr{};
    socklen_t length = sizeof(addr);
    const int fd = accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr),
                           &length, SOCK_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      {
        absl::MutexLock lock(&mutex_);
        if (stopping_) return;
      }
      if (error == EINTR || error == ECONNABORTED) continue;
      // Out of descriptors or memory: say so once, then keep trying gently.
      if (error != last_error) {
        LogError(options_.name, ": accept on ", address_.ToString(), ": ",
                 ErrnoText(error));
        last_error = error;
      }
      absl::SleepFor(absl::Milliseconds(100));
      continue;
    }
    last_error = 0;
    ReapFinished();
    StartConnection(fd, PeerName(fd, addr));
  }
}

void StreamServer::StartConnection(int fd, const std::string& peer) {
  absl::MutexLock lock(&mutex_);
  if (stopping_) {
    close(fd);
    return;
  }
  if (connections_.size() >= static_cast<size_t>(options_.max_connections)) {
    options_.connection_lines->LogIfAllowed(
        LogLevel::kWarning, options_.name, ": refusing connection from ", peer,
        ": ", connections_.size(), " connections already open (the limit)");
    close(fd);
    return;
  }
  SetTimeout(fd, SO_SNDTIMEO, options_.idle_timeout);
  const uint64_t id = next_id_++;
  Connection& connection = connections_[id];
  connection.fd = fd;
  try {
    // The thread cannot end before this returns: it locks mutex_ to end.
    connection.thread =
        std::thread([this, id, fd, peer] { Serve(id, fd, peer); });
  } catch (const std::system_error& error) {
    LogError(options_.name, ": cannot start a thread for ", peer, ": ",
             error.what());
    connections_.erase(id);
    close(fd);
  }
}

void StreamServer::Serve(uint64_t id, int fd, const std::string& peer) {
  std::unique_ptr<StreamSession> session = factory_(peer);
  ServeSession(fd, peer, *session);
  session.reset();
  absl::MutexLock lock(&mutex_);
  // Closed under the lock, so Stop() never shuts down a reused fd number.
  close(fd);
  auto it = connections_.find(id);
  finished_.push_back(std::move(it->second.thread));
  connections_.erase(it);
}

void StreamServer::ServeSession(int fd, const std::string& peer,
                                StreamSession& session) {
  const auto stopping = [this] {
    absl::MutexLock lock(&mutex_);
    return stopping_;
  };
  const int timeout_ms =
      static_cast<int>(absl::ToInt64Milliseconds(options_.idle_timeout));
  char buffer[kReadChunkBytes];
  std::string reply;
  while (true) {
    pollfd ready{fd, POLLIN, 0};
    const int polled = poll(&ready, 1, timeout_ms);
    if (polled < 0 && errno == EINTR) continue;
    if (polled == 0) {
      Log(LogLevel::kDebug,
          absl::StrCat(options_.name, ": closing idle connection from ", peer));
      return;
    }
    const ssize_t received =
        polled < 0 ? -1 : recv(fd, buffer, sizeof(buffer), 0);
    if (received < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (!stopping()) {
        const std::string why = ErrnoText(errno);
        options_.connection_lines->LogIfAllowed(
            LogLevel::kWarning, options_.name, ": connection from ", peer, ": ",
            why);
      }
      return;
    }
    if (received == 0) {
      if (stopping()) return;
      if (absl::Status finished = session.Finish(); !finished.ok()) {
        options_.connection_lines->LogIfAllowed(
            LogLevel::kWarning, options_.name, ": connection from ", peer, ": ",
            finished.message());
      }
      return;
    }
    reply.clear();
    const absl::Status consumed = session.Consume(
        absl::string_view(buffer, static_cast<size_t>(received)), &reply);
    std::string error;
    if (!SendAll(fd, reply, &error)) {
      if (!stopping()) {
        options_.connection_lines->LogIfAllowed(
            LogLevel::kWarning, options_.name, ": cannot reply to ", peer, ": ",
            error);
      }
      return;
    }
    if (!consumed.ok()) {
      options_.connection_lines->LogIfAllowed(LogLevel::kWarning, options_.name,
                                              ": closing connection from ",
                                              peer, ": ", consumed.message());
      return;
    }
  }
}

void StreamServer::ReapFinished() {
  std::vector<std::thread> finished;
  {
    absl::MutexLock lock(&mutex_);
    finished.swap(finished_);
  }
  for (std::thread& thread : finished) thread.join();
}

}  // namespace dtrust
