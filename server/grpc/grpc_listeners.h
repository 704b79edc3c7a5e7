// dtrustd's gRPC server and every address it listens on.
#ifndef DTRUST_SERVER_GRPC_GRPC_LISTENERS_H_
#define DTRUST_SERVER_GRPC_GRPC_LISTENERS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "grpcpp/server.h"
#include "server/grpc/listener_watchdog.h"
#include "server/grpc/unix_grpc_listener.h"

namespace dtrust {

// What one dtrustd's gRPC server may take, whoever its clients are. Every
// field bounds something a client could otherwise grow without limit.
struct GrpcLimits {
  // Concurrent streams (calls) on one HTTP/2 connection; more wait for a
  // free one at the client (GRPC_ARG_MAX_CONCURRENT_STREAMS).
  int max_streams_per_connection = 32;
  // Threads handling calls, pollers included (the resource quota's thread
  // limit, which gRPC's sync server obeys): a call arriving when all are busy
  // fails at once with RESOURCE_EXHAUSTED instead of starting a thread.
  int max_threads = 64;
  // Memory for connections and buffered request data (the resource quota's
  // memory size): under pressure gRPC shrinks flow-control windows and
  // refuses new streams.
  int64_t max_memory_bytes = int64_t{32} << 20;
  // Server keepalive: a ping after this long without activity, the
  // connection closed if unanswered within keepalive_timeout (so dead
  // clients' Health/Watch streams end).
  absl::Duration keepalive_time = absl::Minutes(2);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // Client pings closer together than this count as strikes; after
  // max_ping_strikes the connection is closed (GOAWAY ENHANCE_YOUR_CALM).
  absl::Duration min_client_ping_interval = absl::Seconds(30);
  int max_ping_strikes = 2;
  // A connection without calls for this long is closed.
  absl::Duration max_connection_idle = absl::Minutes(5);
  // Any connection is asked to go away after max_connection_age; its calls
  // get max_connection_age_grace more, then are cancelled.
  absl::Duration max_connection_age = absl::Hours(1);
  absl::Duration max_connection_age_grace = absl::Minutes(1);
  // The sync server keeps 1 to 2 threads polling for calls; one idle this
  // long exits if more than one polls (gRPC's default: 10 s), so threads
  // started for a burst of calls go away soon after it.
  absl::Duration poller_timeout = absl::Seconds(1);
};

struct GrpcListenOptions {
  // "unix:PATH" (served through a UnixGrpcListener, so calls know the
  // caller's uid) or "HOST:PORT" (port 0: the kernel chooses).
  std::vector<std::string> addresses;
  // PEM; both or neither. When given, every TCP address serves TLS and
  // requires a client certificate (not checked against any CA: clients are
  // identified by its digest, PeerIdentity).
  std::string tls_cert_pem;
  std::string tls_key_pem;
  // The largest request message, on unary calls and streams alike.
  int max_receive_bytes = 256 * 1024;
  GrpcLimits limits;
  // When set, every TCP listener is probed (ListenerWatchdog) and this is
  // called, once and on the watchdog's thread, with the address of one that
  // stopped accepting. (Unix listeners recover by themselves.)
  ListenerWatchdog::StuckCallback on_listener_stuck;
};

// Thread-compatible. Shutdown() (or the destructor) before the services go.
class GrpcServing {
 public:
  // Starts the server with `services` (not owned; must outlive it) on every
  // address; FailedPrecondition naming the address that cannot be used.
  static absl::StatusOr<std::unique_ptr<GrpcServing>> Start(
      const GrpcListenOptions& options,
      const std::vector<grpc::Service*>& services);
  ~GrpcServing() { Shutdown(absl::ZeroDuration()); }

  // The addresses as a client would use them (with the bound ports).
  const std::vector<std::string>& addresses() const { return addresses_; }
  // Stops accepting, lets calls finish for at most `grace`, then cancels
  // them and waits. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  GrpcServing() = default;

  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<ListenerWatchdog> watchdog_;
  std::vector<std::unique_ptr<UnixGrpcListener>> unix_listeners_;
  std::vector<std::string> addresses_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_GRPC_LISTENERS_H_
