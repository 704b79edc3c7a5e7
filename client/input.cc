#include "client/input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/files.h"

namespace dtrust::cli {

absl::StatusOr<Certificate> ReadCertificateFile(const std::string& path) {
  absl::StatusOr<std::string> data = ReadSmallFile(path, kMaxCertificateBytes);
  if (!data.ok()) return data.status();
  return Certificate::FromPemOrDer(*data, path);
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
