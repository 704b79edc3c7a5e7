// A unix socket for a gRPC server whose calls know their caller's uid.
#ifndef DTRUST_SERVER_GRPC_UNIX_GRPC_LISTENER_H_
#define DTRUST_SERVER_GRPC_UNIX_GRPC_LISTENER_H_

#include <sys/stat.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "server/base/owned_fd.h"

namespace dtrust {

// gRPC 1.51 tells a call on a unix socket nothing about the peer
// (auth_context() is empty). So dtrustd accepts unix connections itself and
// hands each to the server with AddInsecureChannelFromFd; its calls then see
// the peer "fd:N", from which PeerIdentity (peer_identity.h) reads the
// kernel's SO_PEERCRED credentials.
//
// The socket file is mode 0666: any local user may connect, and what each
// may do is decided per call from its uid. Thread-safe; Stop() (or the
// destructor) must run before `server` is destroyed.
class UnixGrpcListener {
 public:
  // Binds `path` (replacing a stale socket file) and accepts into `server`,
  // which must already be started and outlive this listener.
  static absl::StatusOr<std::unique_ptr<UnixGrpcListener>> Start(
      const std::string& path, grpc::Server* server);

  UnixGrpcListener(const UnixGrpcListener&) = delete;
  UnixGrpcListener& operator=(const UnixGrpcListener&) = delete;
  ~UnixGrpcListener() { Stop(); }

  // Stops accepting and removes the socket file (if still ours).
  // Connections already handed over stay with the server. Idempotent.
  void Stop();

 private:
  UnixGrpcListener(std::string path, OwnedFd fd, OwnedFd wake, struct stat made,
                   grpc::Server* server)
      : path_(std::move(path)),
        fd_(std::move(fd)),
        wake_(std::move(wake)),
        made_(made),
        server_(server) {}
  void AcceptLoop();

  const std::string path_;
  OwnedFd fd_;
  OwnedFd wake_;  // eventfd: written by Stop().
  const struct stat made_;
  grpc::Server* const server_;
  std::thread thread_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_UNIX_GRPC_LISTENER_H_
