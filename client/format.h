// Rendering of dtrustd's answers for people and for --json.
#ifndef DTRUST_CLIENT_FORMAT_H_
#define DTRUST_CLIENT_FORMAT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "dtrust/v1/dtrust.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "server/base/json_writer.h"

namespace dtrust::cli {

// RFC 3339 UTC, e.g. "2025-01-31T12:00:00Z".
std::string Rfc3339(const google::protobuf::Timestamp& time);
// The instant `time` names.
absl::Time TimestampToTime(const google::protobuf::Timestamp& time);
// Rfc3339(time) if `present` (the has_...() of the field), else nullopt.
std::optional<std::string> OptionalRfc3339(
    bool present, const google::protobuf::Timestamp& time);

// "certificate" or "public-key" (see PinKindName); nullopt if unspecified.
std::optional<std::string> PinKindLabel(v1::PinKind kind);

// "asserted" or "possession-proven" (see PinProvenanceName); nullopt if
// unspecified.
std::optional<std::string> ProvenanceLabel(v1::PinProvenance provenance);
// A pin's provenance in words: "possession-proven (published by PEER)",
// "asserted by PEER", "asserted (publisher unknown)"; "" if unspecified.
std::string ProvenanceText(v1::PinProvenance provenance,
                           const std::string& publisher);

// A pin window in words: "from T1 until T2", "from T1", "until T2" (RFC
// 3339), or "" without one. For a v1::Pin or v1::VerifyResponse.
std::string PinWindowText(const std::optional<std::string>& not_before,
                          const std::optional<std::string>& not_after);
template <typename Message>
std::string PinWindowText(const Message& message) {
  return PinWindowText(
      OptionalRfc3339(message.has_pin_not_before(), message.pin_not_before()),
      OptionalRfc3339(message.has_pin_not_after(), message.pin_not_after()));
}

// JSON: {"sha256":..,"spki_sha256":..,"pin_kind":..,"not_before":..,
// "not_after":..,"pin_not_before":..,"pin_not_after":..,"provenance":..,
// "publisher":..,"subject":..}; absent values are null.
void WritePinJson(const v1::Pin& pin, JsonWriter& json);
// JSON: {"name":..,"domains":[..],"pins":[..]}.
void WriteServerJson(const v1::ServerEntry& server, JsonWriter& json);

// Text: one "LABEL:  value" line after `indent`, values aligned.
void AppendDetail(absl::string_view indent, absl::string_view label,
                  absl::string_view value, std::string* out);
// Text: detail lines for a pin (sha256, spki-sha256, pin kind, validity,
// the pin window if it has one, provenance, subject); the first line starts
// with `first_indent`, the rest with `indent`.
void AppendPinText(const v1::Pin& pin, absl::string_view first_indent,
                   absl::string_view indent, std::string* out);
// Text: the server name, then its domains and its pins as a list.
void AppendServerText(const v1::ServerEntry& server, std::string* out);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_FORMAT_H_
