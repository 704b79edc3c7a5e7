#include "client/certificate_report.h"

#include "absl/time/time.h"
#include "client/format.h"
#include "server/base/hex.h"
#include "server/base/time_format.h"

namespace dtrust::cli {
void AppendCertificateText(const Certificate& certificate,
                           absl::string_view subject, std::string* out) {
  AppendDetail("  ", "subject", subject, out);
  AppendDetail("  ", "sha256", certificate.sha256().ToColonHex(), out);
  AppendDetail("  ", "spki-sha256", certificate.spki_sha256().ToColonHex(),
               out);
  AppendDetail("  ", "not-before",
               FormatRfc3339Seconds(certificate.not_before()), out);
  AppendDetail("  ", "not-after", FormatRfc3339Seconds(certificate.not_after()),
               out);
}

void WriteCertificateFields(const Certificate& certificate,
                            absl::string_view subject, JsonWriter& json) {
  json.Field("subject", subject);
  json.Field("sha256", certificate.sha256().ToHex());
  json.Field("spki_sha256", certificate.spki_sha256().ToHex());
  json.Field("not_before", FormatRfc3339Seconds(certificate.not_before()));
  json.Field("not_after", FormatRfc3339Seconds(certificate.not_after()));
}

}  // namespace dtrust::cli
