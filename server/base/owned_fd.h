// A file descriptor with one owner.
#ifndef DTRUST_SERVER_BASE_OWNED_FD_H_
#define DTRUST_SERVER_BASE_OWNED_FD_H_

#include <unistd.h>

#include <utility>

namespace dtrust {

// Closes the descriptor it owns (if >= 0) when destroyed. Movable, not
// copyable; thread-compatible.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.release()) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~OwnedFd() { reset(); }

  int get() const { return fd_; }
  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_OWNED_FD_H_
