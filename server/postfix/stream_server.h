// An event-driven stream-socket server for Postfix's line protocols (policy
// delegation, socketmap): one listening socket, a small fixed number of
// threads serving all its connections (standalone Asio).
#ifndef DTRUST_SERVER_POSTFIX_STREAM_SERVER_H_
#define DTRUST_SERVER_POSTFIX_STREAM_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/core/log_rate_limiter.h"
#include "server/postfix/listen_address.h"

namespace dtrust {

// The protocol state of one connection. Used by one thread at a time.
class StreamSession {
 public:
  virtual ~StreamSession() = default;

  // Consumes the next bytes the peer sent (any split: a request may arrive
  // across calls, several in one) and appends the bytes to send back to
  // `*reply`. An error means the peer broke the protocol: what is in `*reply`
  // is still sent, then the server logs the error and closes the connection.
  virtual absl::Status Consume(absl::string_view data, std::string* reply) = 0;

  // The peer closed its side. An error (e.g. it stopped in the middle of a
  // request) is logged.
  virtual absl::Status Finish() = 0;

  // True while bytes of an unfinished request are pending: the server then
  // holds the connection to the request deadline, not the idle timeout.
  virtual bool MidRequest() const = 0;
};

struct StreamServerOptions {
  // Names the service in log lines, e.g. "policy".
  std::string name = "stream";
  // A connection with no request under way that sends nothing for this long
  // (or does not read its replies for this long) is closed.
  absl::Duration idle_timeout = absl::Seconds(300);
  // A request must arrive whole within this long of its first byte;
  // trickled bytes do not extend it. Then the connection is closed.
  absl::Duration request_timeout = absl::Seconds(10);
  // Connections beyond this many at once are accepted and closed at once,
  // with a log line. Twice the 10,000 Postfix connections (smtpd processes
  // of several MTAs) a busy dtrustd must hold on one socket.
  int max_connections = 20'000;
  // Connections beyond this many at once from one client (an IP address;
  // on a unix socket, a peer uid) are accepted and closed at once, with a
  // log line.
  int max_connections_per_client = 1'000;
  // Threads that serve the socket's connections: each reads, has the
  // session decide and replies. A slow decision (a directory search) holds
  // one of them; the others serve every other connection meanwhile.
  int decision_threads = 4;
  // Limits the log lines about connections that any client can cause at
  // will: a connection refused over a limit, a request that breaks the
  // protocol or its deadline, a reset, a reply the peer does not read, a
  // close in the middle of a request. Copies of these options share it, so
  // the servers started from one options object (one per address of a
  // service) count together. Non-null.
  std::shared_ptr<LogRateLimiter> connection_lines =
      std::make_shared<LogRateLimiter>(kClientLogLinesPerSecond);
};

// Permissions of a unix socket. Its owner and group are the process's; a
// setgid parent directory lends its group (e.g. postfix's).
inline constexpr mode_t kUnixSocketMode = 0660;

// Makes the session of a new connection. `peer` describes the client for
// logs ("127.0.0.1:53412", "unix pid 812 uid 107"). Called on one of the
// server's threads while accepting: must be quick and thread-safe.
using StreamSessionFactory =
    std::function<std::unique_ptr<StreamSession>(absl::string_view peer)>;

// Listens on one address and serves every connection from a few threads
// (StreamServerOptions::decision_threads), feeding what it reads to the
// connection's StreamSession and sending back what the session replies, in
// order: one thread at a time handles a connection, and it reads no more
// until its previous reply is sent. An idle connection costs a socket, a
// timer and its session (no thread, no read buffer). Replies are sent with
// MSG_NOSIGNAL.
//
// A unix socket's path is replaced if it holds a stale socket (nothing
// accepts on it), refused if a server answers there or it is not a socket,
// and removed by Stop() if it is still the one this server made.
//
// Thread-safe. The factory and the sessions it makes must stay usable until
// Stop() returns.
class StreamServer {
 public:
  // Binds and listens, then starts accepting. Errors: InvalidArgument /
  // FailedPrecondition / Unavailable naming the address and the cause (in
  // use, permission, not a socket, ...).
  static absl::StatusOr<std::unique_ptr<StreamServer>> Start(
      const ListenAddress& address, StreamServerOptions options,
      StreamSessionFactory factory);

  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;
  // Stops the server.
  ~StreamServer();

  // The address actually bound: the kernel's port when port 0 was asked.
  const ListenAddress& address() const { return address_; }

  // Stops accepting, closes every open connection (its session sees no
  // more data), waits for the decisions under way, destroys every session
  // and removes the unix socket file. Idempotent.
  void Stop();

 private:
  class Loop;  // The event loop and the connections; see the .cc file.

  StreamServer(ListenAddress address, std::unique_ptr<Loop> loop,
               dev_t unix_dev, ino_t unix_ino);

  const ListenAddress address_;
  const std::unique_ptr<Loop> loop_;
  // Identity of the unix socket file this server made (kUnix only).
  const dev_t unix_dev_;
  const ino_t unix_ino_;

  absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopped_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_POSTFIX_STREAM_SERVER_H_
