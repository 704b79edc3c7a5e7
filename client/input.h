// Local validation of what the user typed or named, before anything is sent.
#ifndef DTRUST_CLIENT_INPUT_H_
#define DTRUST_CLIENT_INPUT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/core/certificate.h"

namespace dtrust::cli {

// Reads one PEM or DER certificate from `path`. A file larger than
// kMaxCertificateBytes is refused without reading it whole. InvalidArgument
// naming the file if it cannot be read or is not exactly one certificate.
absl::StatusOr<Certificate> ReadCertificateFile(const std::string& path);

// A duration given as days ("30d") or anything absl::ParseDuration takes
// ("12h", "1h30m"); not negative, at most 100 years. InvalidArgument naming
// `flag` otherwise.
absl::StatusOr<absl::Duration> ParseDays(absl::string_view text,
                                         absl::string_view flag);

// A --timeout value: an absl duration ("10s", "500ms", "1m") or a plain
// number of seconds; must be positive and finite.
absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_INPUT_H_
