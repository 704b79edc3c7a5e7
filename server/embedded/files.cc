#include "server/embedded/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace dtrust {
namespace {

constexpr off_t kTailBytes = 4096;

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, absl::StrCat("writing ", path));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  reset(other.release());
  return *this;
}

int UniqueFd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view content, mode_t mode) {
  const std::string temp = absl::StrCat(path, ".tmp");
  UniqueFd fd(
      open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (fd.get() < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("creating ", temp));
  }
  absl::Status status = WriteAll(fd.get(), content, temp);
  if (!status.ok()) return status;
  if (fchmod(fd.get(), mode) != 0 || fsync(fd.get()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("syncing ", temp));
  }
  fd.reset();
  if (rename(temp.c_str(), path.c_str()) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("renaming ", temp, " to ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("opening ", path));
  }
  std::string content;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(fd.get(), buffer, sizeof(buffer));
    if (n == 0) return content;
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, absl::StrCat("reading ", path));
    }
    content.append(buffer, static_cast<size_t>(n));
  }
}

std::string TailOfFile(const std::string& path, int max_lines) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat info;
  if (fd.get() < 0 || fstat(fd.get(), &info) != 0) return "";
  const off_t start = std::max<off_t>(0, info.st_size - kTailBytes);
  std::string text(static_cast<size_t>(info.st_size - start), '\0');
  const ssize_t n = pread(fd.get(), text.data(), text.size(), start);
  if (n <= 0) return "";
  text.resize(static_cast<size_t>(n));
  std::vector<absl::string_view> lines =
      absl::StrSplit(absl::StripSuffix(text, "\n"), '\n');
  if (start > 0 && lines.size() > 1) lines.erase(lines.begin());  // Partial.
  if (lines.size() > static_cast<size_t>(max_lines)) {
    lines.erase(lines.begin(), lines.end() - max_lines);
  }
  return absl::StrJoin(lines, "\n");
}

}  // namespace dtrust
