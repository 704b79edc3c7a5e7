// dtrustd's gRPC server and every address it listens on.
#ifndef DTRUST_SERVER_GRPC_GRPC_LISTENERS_H_
#define DTRUST_SERVER_GRPC_GRPC_LISTENERS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "grpcpp/server.h"
#include "server/grpc/unix_grpc_listener.h"

namespace dtrust {

struct GrpcListenOptions {
  // "unix:PATH" (served through a UnixGrpcListener, so calls know the
  // caller's uid) or "HOST:PORT" (port 0: the kernel chooses).
  std::vector<std::string> addresses;
  // PEM; both or neither. When given, every TCP address serves TLS and
  // requires a client certificate (not checked against any CA: clients are
  // identified by its digest, PeerIdentity).
  std::string tls_cert_pem;
  std::string tls_key_pem;
  int max_receive_bytes = 256 * 1024;
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
  std::vector<std::unique_ptr<UnixGrpcListener>> unix_listeners_;
  std::vector<std::string> addresses_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_GRPC_LISTENERS_H_
