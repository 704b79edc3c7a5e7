#include "client/format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "server/base/hex.h"
#include "server/base/time_format.h"
#include "server/core/directory.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kNoValue = "-";

}  // namespace

std::string Rfc3339(const google::protobuf::Timestamp& time) {
  const absl::Time t =
      absl::FromUnixSeconds(time.seconds()) + absl::Nanoseconds(time.nanos());
  return FormatRfc3339(t);
}

std::optional<std::string> OptionalRfc3339(
    bool present, const google::protobuf::Timestamp& time) {
  if (!present) return std::nullopt;
  return Rfc3339(time);
}

std::optional<std::string> PinKindLabel(v1::PinKind kind) {
  switch (kind) {
    case v1::PIN_KIND_CERTIFICATE:
      return std::string(PinKindName(PinKind::kCertificate));
    case v1::PIN_KIND_PUBLIC_KEY:
      return std::string(PinKindName(PinKind::kPublicKey));
    default:
      return std::nullopt;
  }
}

std::optional<std::string> ProvenanceLabel(v1::PinProvenance provenance) {
  switch (provenance) {
    case v1::PIN_PROVENANCE_ASSERTED:
      return std::string(PinProvenanceName(PinProvenance::kAsserted));
    case v1::PIN_PROVENANCE_POSSESSION_PROVEN:
      return std::string(PinProvenanceName(PinProvenance::kPossessionProven));
    default:
      return std::nullopt;
  }
}

std::string ProvenanceText(v1::PinProvenance provenance,
                           const std::string& publisher) {
  switch (provenance) {
    case v1::PIN_PROVENANCE_ASSERTED:
      return publisher.empty() ? "asserted (publisher unknown)"
                               : absl::StrCat("asserted by ", publisher);
    case v1::PIN_PROVENANCE_POSSESSION_PROVEN:
      return publisher.empty()
                 ? "possession-proven"
                 : absl::StrCat("possession-proven (published by ", publisher,
                                ")");
    default:
      return "";
  }
}

std::string PinWindowText(const std::optional<std::string>& not_before,
                          const std::optional<std::string>& not_after) {
  std::vector<std::string> parts;
  if (not_before) parts.push_back(absl::StrCat("from ", *not_before));
  if (not_after) parts.push_back(absl::StrCat("until ", *not_after));
  return absl::StrJoin(parts, " ");
}

void WritePinJson(const v1::Pin& pin, JsonWriter& json) {
  json.BeginObject();
  json.Field("sha256", LowerHex(pin.sha256()));
  json.Field("spki_sha256", LowerHex(pin.spki_sha256()));
  json.NullableField("pin_kind", PinKindLabel(pin.kind()));
  json.NullableField("not_before",
                     OptionalRfc3339(pin.has_not_before(), pin.not_before()));
  json.NullableField("not_after",
                     OptionalRfc3339(pin.has_not_after(), pin.not_after()));
  json.NullableField("pin_not_before", OptionalRfc3339(pin.has_pin_not_before(),
                                                       pin.pin_not_before()));
  json.NullableField("pin_not_after", OptionalRfc3339(pin.has_pin_not_after(),
                                                      pin.pin_not_after()));
  json.NullableField("provenance", ProvenanceLabel(pin.provenance()));
  json.NullableField("publisher",
                     pin.publisher().empty()
                         ? std::nullopt
                         : std::optional<std::string>(pin.publisher()));
  json.Field("subject", pin.subject());
  json.EndObject();
}

void WriteServerJson(const v1::ServerEntry& server, JsonWriter& json) {
  json.BeginObject();
  json.Field("name", server.name());
  json.StringArray("domains",
                   {server.domains().begin(), server.domains().end()});
  json.Key("pins");
  json.BeginArray();
  for (const v1::Pin& pin : server.pins()) WritePinJson(pin, json);
  json.EndArray();
  json.EndObject();
}

void AppendDetail(absl::string_view indent, absl::string_view label,
                  absl::string_view value, std::string* out) {
  absl::StrAppendFormat(out, "%s%-14s %s\n", indent, absl::StrCat(label, ":"),
                        value.empty() ? kNoValue : value);
}

void AppendPinText(const v1::Pin& pin, absl::string_view first_indent,
                   absl::string_view indent, std::string* out) {
  AppendDetail(first_indent, "sha256", ColonHex(pin.sha256()), out);
  AppendDetail(indent, "spki-sha256", ColonHex(pin.spki_sha256()), out);
  AppendDetail(indent, "pin", PinKindLabel(pin.kind()).value_or(""), out);
  AppendDetail(
      indent, "not-before",
      OptionalRfc3339(pin.has_not_before(), pin.not_before()).value_or(""),
      out);
  AppendDetail(
      indent, "not-after",
      OptionalRfc3339(pin.has_not_after(), pin.not_after()).value_or(""), out);
  if (const std::string window = PinWindowText(pin); !window.empty()) {
    AppendDetail(indent, "pin window", window, out);
  }
  AppendDetail(indent, "provenance",
               ProvenanceText(pin.provenance(), pin.publisher()), out);
  AppendDetail(indent, "subject", pin.subject(), out);
}

void AppendServerText(const v1::ServerEntry& server, std::string* out) {
  absl::StrAppend(out, server.name(), "\n");
  AppendDetail("  ", "domains", absl::StrJoin(server.domains(), ", "), out);
  AppendDetail("  ", "pins", absl::StrCat(server.pins_size()), out);
  for (const v1::Pin& pin : server.pins()) {
    AppendPinText(pin, "  - ", "    ", out);
  }
}

absl::Time TimestampToTime(const google::protobuf::Timestamp& time) {
  return absl::FromUnixSeconds(time.seconds()) +
         absl::Nanoseconds(time.nanos());
}

}  // namespace dtrust::cli
