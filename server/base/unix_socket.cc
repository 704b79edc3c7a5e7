#include "server/base/unix_socket.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace dtrust {
namespace {

absl::Status SocketError(const std::string& path, absl::string_view what,
                         int error) {
  return absl::ErrnoToStatus(error,
                             absl::StrCat("unix:", path, ": cannot ", what));
}

sockaddr_un UnixSockaddr(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(),
              std::min(path.size(), sizeof(addr.sun_path) - 1));
  return addr;
}

// Removes `path` if it is a socket nobody accepts on any more.
absl::Status RemoveStaleSocket(const std::string& path, bool* removed) {
  *removed = false;
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return SocketError(path, "inspect the path", errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("unix:", path, ": the path exists and is not a socket"));
  }
  OwnedFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (probe.get() < 0) return SocketError(path, "create a socket", errno);
  const sockaddr_un addr = UnixSockaddr(path);
  if (connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr),
              sizeof(addr)) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("unix:", path, ": a server is already listening there"));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return SocketError(path, "remove the stale socket", errno);
  }
  *removed = true;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<OwnedFd> BindUnixSocket(const std::string& path, mode_t mode,
                                       struct stat* made, bool* removed_stale) {
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unix:", path, ": the path must have 1 to ",
                     sizeof(sockaddr_un::sun_path) - 1, " bytes"));
  }
  if (absl::Status removed = RemoveStaleSocket(path, removed_stale);
      !removed.ok()) {
    return removed;
  }
  OwnedFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return SocketError(path, "create a socket", errno);
  const sockaddr_un addr = UnixSockaddr(path);
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) !=
      0) {
    return SocketError(path, "bind", errno);
  }
  if (chmod(path.c_str(), mode) != 0 || stat(path.c_str(), made) != 0) {
    const int error = errno;
    unlink(path.c_str());
    return SocketError(path, "set the socket's permissions", error);
  }
  return fd;
}

void RemoveUnixSocket(const std::string& path, const struct stat& made) {
  struct stat now;
  if (lstat(path.c_str(), &now) == 0 && now.st_dev == made.st_dev &&
      now.st_ino == made.st_ino) {
    unlink(path.c_str());
  }
}

}  // namespace dtrust
