#include "server/grpc/peer_identity.h"

#include <sys/socket.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/core/certificate.h"

namespace dtrust {
namespace {

constexpr absl::string_view kFdPeerPrefix = "fd:";

// The peer credentials of unix socket `fd`; false if it is not one.
bool UnixPeer(int fd, ucred* credentials) {
  sockaddr_storage address{};
  socklen_t address_length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_length) !=
          0 ||
      address.ss_family != AF_UNIX) {
    return false;
  }
  socklen_t length = sizeof(*credentials);
  return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, credentials, &length) == 0 &&
         length == sizeof(*credentials);
}

}  // namespace

Identity PeerIdentity(const grpc::ServerContext& context) {
  std::string peer = context.peer();
  if (const std::shared_ptr<const grpc::AuthContext> auth =
          context.auth_context();
      auth != nullptr) {
    const std::vector<grpc::string_ref> pems =
        auth->FindPropertyValues("x509_pem_cert");
    if (!pems.empty()) {
      absl::StatusOr<Certificate> certificate = Certificate::FromPemOrDer(
          absl::string_view(pems.front().data(), pems.front().size()),
          "client certificate");
      // gRPC's TLS handshake checked it; one that does not parse identifies
      // nobody.
      if (certificate.ok()) {
        return Identity::Certificate(certificate->sha256(), std::move(peer));
      }
      return Identity::Anonymous(std::move(peer));
    }
  }
  absl::string_view rest = peer;
  int fd = -1;
  ucred credentials{};
  if (absl::ConsumePrefix(&rest, kFdPeerPrefix) &&
      absl::SimpleAtoi(rest, &fd) && UnixPeer(fd, &credentials)) {
    return Identity::UnixUser(credentials.uid, credentials.gid,
                              absl::StrCat("unix:pid ", credentials.pid));
  }
  return Identity::Anonymous(std::move(peer));
}

}  // namespace dtrust
