#include "server/base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/base/owned_fd.h"

namespace dtrust {
namespace {

absl::Status FileError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": ", what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          size_t max_bytes) {
  OwnedFd owned(open(path.c_str(), O_RDONLY | O_CLOEXEC));
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

}  // namespace dtrust
