#include "server/grpc/unix_grpc_listener.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "grpcpp/server_posix.h"
#include "server/base/unix_socket.h"
#include "server/core/log.h"
#include "server/core/metrics.h"

namespace dtrust {
namespace {

constexpr mode_t kGrpcSocketMode = 0666;
// The listener label of its connections in the metrics.
constexpr char kListenerName[] = "grpc_unix";
constexpr int kListenBacklog = 128;
// Connections are refused while fewer descriptors than this would stay free
// (for the directory, the TCP listener, the Postfix listeners, logs).
constexpr int kFreeDescriptorReserve = 64;

// A descriptor kept open to be closed when the process runs out, so that a
// waiting connection can still be accepted and closed (its client then
// hears so, instead of hanging in the backlog while the loop spins).
OwnedFd SpareDescriptor() {
  return OwnedFd(open("/dev/null", O_RDONLY | O_CLOEXEC));
}

// The soft RLIMIT_NOFILE, read now (dtrustd may raise it after start).
rlim_t DescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return RLIM_INFINITY;
  return limit.rlim_cur;
}

// Whether accepting `connection` (the lowest free descriptor, as accept4
// returns) leaves fewer than kFreeDescriptorReserve free.
bool NearDescriptorLimit(int connection) {
  const rlim_t limit = DescriptorLimit();
  return limit != RLIM_INFINITY &&
         static_cast<rlim_t>(connection) + kFreeDescriptorReserve >= limit;
}

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
  OwnedFd spare = SpareDescriptor();
  bool refusing = false;  // Logs once per shortage, not per connection.
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      LogError("unix:", path_, ": poll failed: ", strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    int connection =
        accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (connection < 0 && (errno == EMFILE || errno == ENFILE) &&
        spare.get() >= 0) {
      spare.reset();
      connection =
          accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (connection >= 0) {
        close(connection);
        ProcessMetrics().CountConnection(kListenerName,
                                         ConnectionEvent::kRefused);
      }
      connection = -1;
      errno = EMFILE;
      spare = SpareDescriptor();
    }
    if (connection >= 0 && NearDescriptorLimit(connection)) {
      close(connection);
      ProcessMetrics().CountConnection(kListenerName,
                                       ConnectionEvent::kRefused);
      connection = -1;
      errno = EMFILE;
    }
    if (connection < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        if (!refusing) {
          LogWarning("unix:", path_,
                     ": out of file descriptors, refusing connections");
        }
        refusing = true;
        // Without a spare descriptor the waiting connection stays queued:
        // do not spin until one is free.
        if (spare.get() < 0) poll(nullptr, 0, 10);
      }
      continue;
    }
    if (refusing) LogInfo("unix:", path_, ": accepting connections again");
    refusing = false;
    // gRPC owns it from here (it expects a non-blocking socket) and closes
    // it when the connection ends.
    ProcessMetrics().CountConnection(kListenerName, ConnectionEvent::kOpened);
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
