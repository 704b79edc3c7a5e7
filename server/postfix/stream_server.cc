#include "server/postfix/stream_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asio/dispatch.hpp"
#include "asio/executor_work_guard.hpp"
#include "asio/generic/stream_protocol.hpp"
#include "asio/io_context.hpp"
#include "asio/posix/stream_descriptor.hpp"
#include "asio/post.hpp"
#include "asio/steady_timer.hpp"
#include "asio/strand.hpp"
#include "asio/write.hpp"
#include "server/base/owned_fd.h"
#include "server/base/unix_socket.h"
#include "server/core/log.h"
#include "server/core/metrics.h"

namespace dtrust {
namespace {

// The kernel caps it at net.core.somaxconn (4096 on Debian bookworm).
constexpr int kListenBacklog = 4096;
// Read into a buffer on the stack of the thread that reads; a connection
// keeps only what its session keeps.
constexpr size_t kReadChunkBytes = 16 * 1024;
// Connections accepted per wakeup, so that a flood of connects does not
// starve the connections already open.
constexpr int kAcceptsPerWakeup = 64;
// When accept fails for want of descriptors or memory, retry after this.
constexpr absl::Duration kAcceptRetryDelay = absl::Milliseconds(100);

using GenericStream = asio::generic::stream_protocol;
using Deadline = asio::steady_timer::time_point;

absl::Status SocketError(const ListenAddress& address, absl::string_view what,
                         int error) {
  return absl::ErrnoToStatus(
      error, absl::StrCat(address.ToString(), ": cannot ", what));
}

std::string ErrnoText(int error) {
  char buffer[256];
  return strerror_r(error, buffer, sizeof(buffer));  // GNU: returns the text.
}

Deadline After(absl::Duration duration) {
  return asio::steady_timer::clock_type::now() +
         absl::ToChronoNanoseconds(duration);
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

// Who a connection counts against for max_connections_per_client: the
// peer's uid on a unix socket, else its IP address.
std::string ClientKey(int fd, const sockaddr_storage& addr) {
  if (addr.ss_family == AF_UNIX) {
    ucred credentials{};
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
      return "unix peer";
    }
    return absl::StrCat("uid ", credentials.uid);
  }
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr,
              host, sizeof(host));
  } else {
    inet_ntop(AF_INET6,
              &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, host,
              sizeof(host));
  }
  return host;
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

using Strand = asio::strand<asio::io_context::executor_type>;

// One client connection. Its socket's and timer's handlers run on its own
// strand, one at a time, whichever of the server's threads runs them: its
// fields belong to that strand.
struct Connection {
  Connection(Strand connection_strand, std::string peer_name,
             std::string client_key)
      : strand(std::move(connection_strand)),
        socket(strand),
        timer(strand),
        peer(std::move(peer_name)),
        client(std::move(client_key)) {}

  Strand strand;
  GenericStream::socket socket;
  // Fires at the connection's deadline: idle, request or reply.
  asio::steady_timer timer;
  const std::string peer;
  const std::string client;
  std::unique_ptr<StreamSession> session;
  std::string reply;  // Being sent.
  // When the connection is closed unless something happens first.
  Deadline deadline{};
  bool timer_armed = false;  // A wait on `timer` is pending.
  // The session holds part of a request (its deadline runs).
  bool mid_request = false;
  bool writing = false;
  bool closed = false;
};

}  // namespace

// The event loop of one server: `threads_` run `io_`, each connection's
// handlers (reads, its session's decisions, replies, its deadline) on the
// connection's strand, and accepting on the listener's. A slow decision
// holds one thread; the others keep serving every other connection.
class StreamServer::Loop {
 public:
  Loop(StreamServerOptions options, StreamSessionFactory factory,
       OwnedFd listen_fd, std::string address)
      : options_(std::move(options)),
        factory_(std::move(factory)),
        address_(std::move(address)),
        listener_(asio::make_strand(io_), listen_fd.release()),
        accept_retry_(listener_.get_executor()) {}

  void Run() {
    listener_.non_blocking(true);
    WaitForClients();
    for (int i = 0; i < options_.decision_threads; ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
  }

  // Closes the listener and every connection, lets the decisions under way
  // finish, and ends the threads.
  void Stop() {
    std::promise<void> listener_closed;
    asio::post(listener_.get_executor(), [this, &listener_closed] {
      asio::error_code ignored;
      listener_.close(ignored);
      accept_retry_.cancel();
      listener_closed.set_value();
    });
    listener_closed.get_future().wait();
    {
      absl::MutexLock lock(&mutex_);
      stopping_ = true;
      for (const auto& [raw, connection] : connections_) {
        asio::post(connection->strand,
                   [this, connection = connection] { Close(connection); });
      }
      auto all_closed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
        return connections_.empty();
      };
      mutex_.Await(absl::Condition(&all_closed));
    }
    work_.reset();
    for (std::thread& thread : threads_) thread.join();
  }

 private:
  using ConnectionPtr = std::shared_ptr<Connection>;

  template <typename... Args>
  void LogClientLine(const Args&... args) {
    options_.connection_lines->LogIfAllowed(LogLevel::kWarning, options_.name,
                                            args...);
  }

  void WaitForClients() {
    listener_.async_wait(asio::posix::descriptor_base::wait_read,
                         [this](const asio::error_code& error) {
                           if (!error) AcceptReady();
                         });
  }

  // Accepts what is pending, then waits again (or retries later when out
  // of descriptors or memory). On the listener's strand.
  void AcceptReady() {
    for (int i = 0; i < kAcceptsPerWakeup; ++i) {
      sockaddr_storage addr{};
      socklen_t length = sizeof(addr);
      const int fd =
          accept4(listener_.native_handle(), reinterpret_cast<sockaddr*>(&addr),
                  &length, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        last_accept_error_ = 0;
        Admit(fd, addr);
        continue;
      }
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) break;
      if (error == EINTR || error == ECONNABORTED) continue;
      if (error != last_accept_error_) {
        LogError(options_.name, ": accept on ", address_, ": ",
                 ErrnoText(error));
        last_accept_error_ = error;
      }
      accept_retry_.expires_after(absl::ToChronoNanoseconds(kAcceptRetryDelay));
      accept_retry_.async_wait([this](const asio::error_code& waited) {
        if (!waited) AcceptReady();
      });
      return;
    }
    WaitForClients();
  }

  // Counts a connection from `client` in, or says why it is refused.
  bool TakeSlot(const std::string& peer, const std::string& client) {
    absl::MutexLock lock(&mutex_);
    if (stopping_) return false;
    if (connections_.size() >= static_cast<size_t>(options_.max_connections)) {
      LogClientLine(": refusing connection from ", peer, ": ",
                    connections_.size(),
                    " connections already open (the limit)");
      return false;
    }
    int& from_client = per_client_[client];
    if (from_client >= options_.max_connections_per_client) {
      LogClientLine(": refusing connection from ", peer, ": ", from_client,
                    " connections from ", client,
                    " already open (the limit per client)");
      return false;
    }
    ++from_client;
    return true;
  }

  // Serves the accepted `fd`, or closes it when over a limit.
  void Admit(int fd, const sockaddr_storage& addr) {
    const std::string peer = PeerName(fd, addr);
    std::string client = ClientKey(fd, addr);
    if (!TakeSlot(peer, client)) {
      close(fd);
      ProcessMetrics().CountConnection(options_.name,
                                       ConnectionEvent::kRefused);
      return;
    }
    auto connection = std::make_shared<Connection>(asio::make_strand(io_), peer,
                                                   std::move(client));
    asio::error_code error;
    connection->socket.assign(
        GenericStream(addr.ss_family,
                      addr.ss_family == AF_UNIX ? 0 : IPPROTO_TCP),
        fd, error);
    if (error) {
      LogError(options_.name, ": cannot serve ", peer, ": ", error.message());
      close(fd);
      absl::MutexLock lock(&mutex_);
      ReleaseSlot(connection->client);
      return;
    }
    connection->session = factory_(peer);
    {
      absl::MutexLock lock(&mutex_);
      connections_.emplace(connection.get(), connection);
    }
    ProcessMetrics().CountConnection(options_.name, ConnectionEvent::kOpened);
    asio::dispatch(connection->strand, [this, connection] {
      SetDeadline(connection, After(options_.idle_timeout));
      WaitForData(connection);
    });
  }

  // Moves the connection's deadline. The timer is only re-armed when the
  // deadline comes earlier than it is set for (a new request); a later one
  // (the idle timeout after a reply) is picked up when the timer fires, so
  // a busy connection costs no timer work per request.
  void SetDeadline(const ConnectionPtr& connection, Deadline deadline) {
    connection->deadline = deadline;
    if (connection->timer_armed && connection->timer.expiry() <= deadline) {
      return;
    }
    ArmTimer(connection);
  }

  void ArmTimer(const ConnectionPtr& connection) {
    connection->timer_armed = true;
    connection->timer.expires_at(connection->deadline);
    connection->timer.async_wait(
        [this, connection](const asio::error_code& error) {
          // Cancelled: re-armed earlier, or closed.
          if (error || connection->closed) return;
          if (connection->timer.expiry() != connection->deadline &&
              asio::steady_timer::clock_type::now() < connection->deadline) {
            ArmTimer(connection);  // The deadline moved later meanwhile.
            return;
          }
          connection->timer_armed = false;
          DeadlinePassed(connection);
        });
  }

  void DeadlinePassed(const ConnectionPtr& connection) {
    if (connection->closed) return;
    if (connection->writing) {
      LogClientLine(": cannot reply to ", connection->peer,
                    ": it does not read its replies");
    } else if (connection->mid_request) {
      LogClientLine(": closing connection from ", connection->peer,
                    ": the request did not end within ",
                    absl::FormatDuration(options_.request_timeout));
    } else {
      Log(LogLevel::kDebug,
          absl::StrCat(options_.name, ": closing idle connection from ",
                       connection->peer));
    }
    Close(connection);
  }

  void WaitForData(const ConnectionPtr& connection) {
    connection->socket.async_wait(
        GenericStream::socket::wait_read,
        [this, connection](const asio::error_code& error) {
          if (!error && !connection->closed) Receive(connection);
        });
  }

  // Reads what the peer sent and has the session decide on it.
  void Receive(const ConnectionPtr& connection) {
    char buffer[kReadChunkBytes];
    const ssize_t received =
        recv(connection->socket.native_handle(), buffer, sizeof(buffer), 0);
    if (received < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
        WaitForData(connection);
        return;
      }
      LogClientLine(": connection from ", connection->peer, ": ",
                    ErrnoText(errno));
      Close(connection);
      return;
    }
    if (received == 0) {
      if (absl::Status finished = connection->session->Finish();
          !finished.ok()) {
        LogClientLine(": connection from ", connection->peer, ": ",
                      finished.message());
      }
      Close(connection);
      return;
    }
    const Deadline request_deadline = After(options_.request_timeout);
    if (!connection->mid_request) SetDeadline(connection, request_deadline);
    std::string reply;
    const absl::Status consumed = connection->session->Consume(
        absl::string_view(buffer, static_cast<size_t>(received)), &reply);
    const bool mid_request = connection->session->MidRequest();
    // A request that began in this data (after one it completed, or on a
    // quiet connection) runs to this data's deadline; one still unfinished
    // keeps the deadline of its first byte.
    if (mid_request && (!connection->mid_request || !reply.empty())) {
      SetDeadline(connection, request_deadline);
    }
    connection->mid_request = mid_request;
    if (reply.empty()) {
      AfterReply(connection, consumed);
      return;
    }
    Reply(connection, std::move(reply), consumed);
  }

  // Sends `reply`, then reads on (or closes after a protocol error).
  void Reply(const ConnectionPtr& connection, std::string reply,
             const absl::Status& consumed) {
    connection->reply = std::move(reply);
    connection->writing = true;
    if (!connection->mid_request) {
      SetDeadline(connection, After(options_.idle_timeout));
    }
    asio::async_write(
        connection->socket, asio::buffer(connection->reply),
        [this, connection, consumed](const asio::error_code& error, size_t) {
          connection->writing = false;
          std::string().swap(connection->reply);
          if (connection->closed) return;
          if (error) {
            LogClientLine(": cannot reply to ", connection->peer, ": ",
                          error.message());
            Close(connection);
            return;
          }
          AfterReply(connection, consumed);
        });
  }

  void AfterReply(const ConnectionPtr& connection,
                  const absl::Status& consumed) {
    if (!consumed.ok()) {
      LogClientLine(": closing connection from ", connection->peer, ": ",
                    consumed.message());
      Close(connection);
      return;
    }
    if (!connection->mid_request) {
      SetDeadline(connection, After(options_.idle_timeout));
    }
    WaitForData(connection);
  }

  // Closes the socket and ends the session. On the connection's strand.
  void Close(const ConnectionPtr& connection) {
    if (connection->closed) return;
    connection->closed = true;
    asio::error_code ignored;
    connection->socket.close(ignored);
    connection->timer.cancel();
    connection->session.reset();
    ProcessMetrics().CountConnection(options_.name, ConnectionEvent::kClosed);
    absl::MutexLock lock(&mutex_);
    ReleaseSlot(connection->client);
    connections_.erase(connection.get());
  }

  void ReleaseSlot(const std::string& client)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    auto counted = per_client_.find(client);
    if (counted != per_client_.end() && --counted->second == 0) {
      per_client_.erase(counted);
    }
  }

  const StreamServerOptions options_;
  const StreamSessionFactory factory_;
  const std::string address_;  // For log lines.
  asio::io_context io_;
  // Keeps io_.run() going while the server is up.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      work_{asio::make_work_guard(io_)};
  // These two belong to the listener's strand.
  asio::posix::basic_stream_descriptor<Strand> listener_;
  asio::basic_waitable_timer<std::chrono::steady_clock,
                             asio::wait_traits<std::chrono::steady_clock>,
                             Strand>
      accept_retry_;
  int last_accept_error_ = 0;  // Listener's strand.
  std::vector<std::thread> threads_;

  absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  absl::flat_hash_map<Connection*, ConnectionPtr> connections_
      ABSL_GUARDED_BY(mutex_);
  absl::flat_hash_map<std::string, int> per_client_ ABSL_GUARDED_BY(mutex_);
};

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
  auto loop = std::make_unique<Loop>(std::move(options), std::move(factory),
                                     *std::move(fd), bound.ToString());
  loop->Run();
  return std::unique_ptr<StreamServer>(new StreamServer(
      std::move(bound), std::move(loop), made.st_dev, made.st_ino));
}

StreamServer::StreamServer(ListenAddress address, std::unique_ptr<Loop> loop,
                           dev_t unix_dev, ino_t unix_ino)
    : address_(std::move(address)),
      loop_(std::move(loop)),
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
  loop_->Stop();
  if (address_.kind == ListenAddress::Kind::kUnix) {
    struct stat made {};
    made.st_dev = unix_dev_;
    made.st_ino = unix_ino_;
    RemoveUnixSocket(address_.path, made);
  }
  absl::MutexLock lock(&mutex_);
  stopped_ = true;
}

}  // namespace dtrust
