// The caller's identity from a gRPC call's transport.
#ifndef DTRUST_SERVER_GRPC_PEER_IDENTITY_H_
#define DTRUST_SERVER_GRPC_PEER_IDENTITY_H_

#include "grpcpp/server_context.h"
#include "server/auth/identity.h"

namespace dtrust {

// - A TLS client certificate (auth context property "x509_pem_cert"): its
//   DER's SHA-256, nothing else of it.
// - A connection UnixGrpcListener handed to gRPC (peer "fd:N"): the kernel's
//   SO_PEERCRED uid/gid of the process that connected. The descriptor is
//   the call's own while the call lives, as gRPC keeps a transport's socket
//   open until its last call ends.
// - Anything else (plain TCP): anonymous.
// Thread-safe.
Identity PeerIdentity(const grpc::ServerContext& context);

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_PEER_IDENTITY_H_
