#include "server/grpc/unix_grpc_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "grpcpp/server_posix.h"
#include "server/base/unix_socket.h"
#include "server/core/log.h"

namespace dtrust {
namespace {

constexpr mode_t kGrpcSocketMode = 0666;
constexpr int kListenBacklog = 128;

}  // namespace

absl::StatusOr<std::unique_ptr<UnixGrpcListener>> UnixGrpcListener::Start(
    const std::string& path, grpc::Server* server) {
  struct stat made {};
  bool removed_stale = false;
  absl::StatusOr<OwnedFd> fd =
      BindUnixSocket(path, kGrpcSocketMode, &made, &removed_stale);
  if (removed_stale) LogInfo("removed stale socket ", path);
  if (!fd.ok()) return fd.status();
  OwnedFd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake.get() < 0 || listen(fd->get(), kListenBacklog) != 0) {
    const int error = errno;
    RemoveUnixSocket(path, made);
    return absl::ErrnoToStatus(error,
                               absl::StrCat("unix:", path, ": cannot listen"));
  }
  std::unique_ptr<UnixGrpcListener> listener(new UnixGrpcListener(
      path, *std::move(fd), std::move(wake), made, server));
  listener->thread_ =
      std::thread([raw = listener.get()] { raw->AcceptLoop(); });
  return listener;
}

void UnixGrpcListener::AcceptLoop() {
  pollfd fds[2] = {{.fd = fd_.get(), .events = POLLIN, .revents = 0},
                   {.fd = wake_.get(), .events = POLLIN, .revents = 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      LogError("unix:", path_, ": poll failed: ", strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    const int connection =
        accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (connection < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        LogWarning("unix:", path_, ": out of file descriptors");
        poll(nullptr, 0, 100);  // Do not spin until one is free.
      }
      continue;
    }
    // gRPC owns it from here (it expects a non-blocking socket) and closes
    // it when the connection ends.
    grpc::AddInsecureChannelFromFd(server_, connection);
  }
}

void UnixGrpcListener::Stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  if (write(wake_.get(), &one, sizeof(one)) < 0) {
    LogWarning("unix:", path_, ": cannot wake the accept loop");
  }
  thread_.join();
  fd_.reset();
  RemoveUnixSocket(path_, made_);
}

}  // namespace dtrust
