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
#include "absl/strings/strip.h"
#include "client/files.h"
#include "server/base/files.h"

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

absl::StatusOr<absl::Duration> ParseDays(absl::string_view text,
                                         absl::string_view flag) {
  absl::Duration duration;
  int64_t days = 0;
  absl::string_view number = text;
  if (absl::ConsumeSuffix(&number, "d") && absl::SimpleAtoi(number, &days) &&
      days >= 0 && days <= 100 * 365) {
    return absl::Hours(24 * days);
  }
  if (!absl::ParseDuration(text, &duration) ||
      duration < absl::ZeroDuration() ||
      duration > absl::Hours(24 * 365 * 100)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", text, ": not a duration such as 30d or 12h"));
  }
  return duration;
}

}  // namespace dtrust::cli
