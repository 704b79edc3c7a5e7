#include "client/input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace dtrust::cli {
namespace {

absl::Status FileError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": ", what, ": ", std::strerror(errno)));
}

absl::Status TooBig(const std::string& path) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": larger than ", kMaxCertificateBytes,
                   " bytes; not a single certificate"));
}

}  // namespace

absl::StatusOr<Certificate> ReadCertificateFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileError(path, "cannot open");
  absl::Cleanup close_fd = [fd] { close(fd); };
  struct stat st;
  if (fstat(fd, &st) != 0) return FileError(path, "cannot stat");
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  }
  if (S_ISREG(st.st_mode) &&
      static_cast<uint64_t>(st.st_size) > kMaxCertificateBytes) {
    return TooBig(path);
  }
  // Read at most one byte more than allowed: pipes and devices have no size.
  std::string data(kMaxCertificateBytes + 1, '\0');
  size_t length = 0;
  while (length < data.size()) {
    const ssize_t n = read(fd, data.data() + length, data.size() - length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError(path, "cannot read");
    if (n == 0) break;
    length += static_cast<size_t>(n);
  }
  if (length > kMaxCertificateBytes) return TooBig(path);
  data.resize(length);
  return Certificate::FromPemOrDer(data, path);
}

absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text) {
  absl::Duration timeout;
  double seconds;
  if (absl::SimpleAtod(text, &seconds)) {
    if (!std::isfinite(seconds)) seconds = -1;  // Rejected below.
    timeout = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &timeout)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--timeout ", text, ": not a duration (e.g. 10s, 500ms, 1m)"));
  }
  if (timeout <= absl::ZeroDuration() || timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout ", text, ": must be positive and finite"));
  }
  return timeout;
}

}  // namespace dtrust::cli
