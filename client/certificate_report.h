// How the lifecycle commands show a certificate they made or read.
#ifndef DTRUST_CLIENT_CERTIFICATE_REPORT_H_
#define DTRUST_CLIENT_CERTIFICATE_REPORT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "server/base/json_writer.h"
#include "server/core/certificate.h"

namespace dtrust::cli {

// Text: "  LABEL: value" lines for subject (`subject`, e.g. from
// FormatRfc4514), sha256, spki-sha256, not-before and not-after.
void AppendCertificateText(const Certificate& certificate,
                           absl::string_view subject, std::string* out);

// JSON: the fields "subject", "sha256", "spki_sha256" (lower-case hex),
// "not_before" and "not_after" (RFC 3339 UTC), inside an open object.
void WriteCertificateFields(const Certificate& certificate,
                            absl::string_view subject, JsonWriter& json);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_CERTIFICATE_REPORT_H_
