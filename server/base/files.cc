#include "server/base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace dtrust {
namespace {

constexpr off_t kTailBytes = 4096;
constexpr size_t kMaxPasswordFileBytes = 4096;

absl::Status FileError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": ", what, ": ", std::strerror(errno)));
}

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

// "a directory", "a symbolic link", ... for messages.
const char* KindOfFile(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

// Creates `temp` for writing, exclusively and without following a link; a
// leftover at that name (from a crash, or planted) is unlinked once first.
absl::StatusOr<OwnedFd> CreateTempFile(const std::string& temp, mode_t mode) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  OwnedFd fd(open(temp.c_str(), kFlags, mode));
  if (fd.get() < 0 && errno == EEXIST && unlink(temp.c_str()) == 0) {
    fd.reset(open(temp.c_str(), kFlags, mode));
  }
  if (fd.get() < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("creating ", temp));
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          size_t max_bytes, FileAccess access) {
  OwnedFd owned;
  if (access == FileAccess::kOwnFileOnly) {
    absl::StatusOr<OwnedFd> opened = OpenOwnFile(path, O_RDONLY);
    if (!opened.ok()) return opened.status();
    owned = *std::move(opened);
  } else {
    owned.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  }
  const int fd = owned.get();
  if (fd < 0) return FileError(path, "cannot open");
  struct stat st;
  if (fstat(fd, &st) != 0) return FileError(path, "cannot stat");
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  }
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": larger than ", max_bytes, " bytes"));
  }
  // Read at most one byte more than allowed: pipes and devices have no size.
  std::string data(max_bytes + 1, '\0');
  size_t length = 0;
  while (length < data.size()) {
    const ssize_t n = read(fd, data.data() + length, data.size() - length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError(path, "cannot read");
    if (n == 0) break;
    length += static_cast<size_t>(n);
  }
  if (length > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": larger than ", max_bytes, " bytes"));
  }
  data.resize(length);
  return data;
}

absl::StatusOr<std::string> ReadPasswordFile(const std::string& path) {
  absl::StatusOr<std::string> data = ReadSmallFile(path, kMaxPasswordFileBytes);
  if (!data.ok()) return data.status();
  data->resize(std::min(data->size(), data->find('\n')));
  if (!data->empty() && data->back() == '\r') data->pop_back();
  return data;
}

absl::StatusOr<OwnedFd> OpenOwnFile(const std::string& path, int flags,
                                    mode_t mode) {
  // O_NONBLOCK: opening a FIFO must not wait for its other end.
  OwnedFd fd(
      open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode));
  struct stat st;
  if (fd.get() < 0) {
    const int error = errno;
    if (error == ELOOP && lstat(path.c_str(), &st) == 0 &&
        S_ISLNK(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is a symbolic link; it is not followed (remove it)"));
    }
    return absl::ErrnoToStatus(error, absl::StrCat("opening ", path));
  }
  if (fstat(fd.get(), &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("inspecting ", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is ", KindOfFile(st.st_mode),
                     ", not a regular file (remove it)"));
  }
  if (st.st_uid != geteuid()) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is owned by uid ", st.st_uid, ", not by uid ", geteuid(),
        " (this process's user); chown it or remove it"));
  }
  // Descriptors of regular files never block; clear the flag anyway, as
  // children may inherit this descriptor.
  const int status_flags = fcntl(fd.get(), F_GETFL);
  if (status_flags < 0 ||
      fcntl(fd.get(), F_SETFL, status_flags & ~O_NONBLOCK) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("setting up ", path));
  }
  return fd;
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view content, mode_t mode) {
  const std::string temp = absl::StrCat(path, ".tmp");
  absl::StatusOr<OwnedFd> fd = CreateTempFile(temp, mode);
  if (!fd.ok()) return fd.status();
  absl::Status status = WriteAll(fd->get(), content, temp);
  if (status.ok() && (fchmod(fd->get(), mode) != 0 || fsync(fd->get()) != 0)) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("syncing ", temp));
  }
  fd->reset();
  if (status.ok() && rename(temp.c_str(), path.c_str()) != 0) {
    status = absl::ErrnoToStatus(errno,
                                 absl::StrCat("renaming ", temp, " to ", path));
  }
  if (!status.ok()) unlink(temp.c_str());
  return status;
}

std::string TailOfFile(const std::string& path, int max_lines) {
  absl::StatusOr<OwnedFd> fd = OpenOwnFile(path, O_RDONLY);
  struct stat info;
  if (!fd.ok() || fstat(fd->get(), &info) != 0) return "";
  const off_t start = std::max<off_t>(0, info.st_size - kTailBytes);
  std::string text(static_cast<size_t>(info.st_size - start), '\0');
  const ssize_t n = pread(fd->get(), text.data(), text.size(), start);
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
