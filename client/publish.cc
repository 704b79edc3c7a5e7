#include "client/publish.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/format.h"
#include "server/base/status_macros.h"
#include "server/base/time_format.h"
#include "server/core/dns_name.h"

namespace dtrust::cli {
namespace {

absl::StatusOr<v1::PinKind> ParsePinKind(absl::string_view text,
                                         absl::string_view command) {
  if (text == "cert" || text == "certificate") return v1::PIN_KIND_CERTIFICATE;
  if (text == "key" || text == "public-key") return v1::PIN_KIND_PUBLIC_KEY;
  return UsageError(command,
                    absl::StrCat("--pin ", text, ": must be cert or key"));
}

// --not-before/--not-after: RFC 3339 or a date (00:00 UTC).
absl::StatusOr<google::protobuf::Timestamp> ParseTimeOption(
    absl::string_view option, absl::string_view text,
    absl::string_view command) {
  const std::optional<absl::Time> time = ParseRfc3339OrDate(text);
  if (!time) {
    return UsageError(
        command, absl::StrCat("--", option, " ", text,
                              ": not an RFC 3339 time (2026-12-01T00:00:00Z) "
                              "or a date (2026-12-01)"));
  }
  google::protobuf::Timestamp timestamp;
  const int64_t seconds = absl::ToUnixSeconds(*time);
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(*time - absl::FromUnixSeconds(seconds))));
  return timestamp;
}

// What a PIN_UPDATED publish changed, e.g. "pin kind certificate ->
// public-key; pin window none -> until 2026-12-01T00:00:00Z; provenance
// asserted -> possession-proven".
std::string Changes(const v1::Pin& before, const v1::Pin& after) {
  std::vector<std::string> changes;
  if (before.kind() != after.kind()) {
    changes.push_back(
        absl::StrCat("pin kind ", PinKindLabel(before.kind()).value_or("?"),
                     " -> ", PinKindLabel(after.kind()).value_or("?")));
  }
  const std::string window_before = PinWindowText(before);
  const std::string window_after = PinWindowText(after);
  if (window_before != window_after) {
    changes.push_back(absl::StrCat(
        "pin window ", window_before.empty() ? "none" : window_before, " -> ",
        window_after.empty() ? "none" : window_after));
  }
  if (before.provenance() != after.provenance()) {
    changes.push_back(absl::StrCat(
        "provenance ", ProvenanceLabel(before.provenance()).value_or("?"),
        " -> ", ProvenanceLabel(after.provenance()).value_or("?")));
  }
  return absl::StrJoin(changes, "; ");
}

void WriteJson(const v1::PublishResponse& response, JsonWriter& json) {
  json.BeginObject();
  json.Field("outcome", v1::PublishResponse::Outcome_Name(response.outcome()));
  json.Key("server");
  WriteServerJson(response.server(), json);
  json.Key("pin");
  WritePinJson(response.pin(), json);
  json.StringArray("domains_added", {response.domains_added().begin(),
                                     response.domains_added().end()});
  json.Key("previous_pin");
  if (response.has_previous_pin()) {
    WritePinJson(response.previous_pin(), json);
  } else {
    json.Null();
  }
  json.EndObject();
}

void AppendText(absl::string_view label, const v1::PublishResponse& response,
                std::string* out) {
  const std::string& server = response.server().name();
  switch (response.outcome()) {
    case v1::PublishResponse::ALREADY_PUBLISHED:
      absl::StrAppend(out, "already published ", label, " for ", server, "\n");
      break;
    case v1::PublishResponse::PIN_UPDATED:
      absl::StrAppend(out, "published ", label, " for ", server, " (updated: ",
                      Changes(response.previous_pin(), response.pin()), ")\n");
      break;
    default:
      absl::StrAppend(out, "published ", label, " for ", server, "\n");
  }
  AppendPinText(response.pin(), "  ", "  ", out);
  AppendDetail("  ", "domains added",
               absl::StrJoin(response.domains_added(), ", "), out);
  AppendDetail("  ", "domains",
               absl::StrJoin(response.server().domains(), ", "), out);
}

}  // namespace

std::vector<OptionSpec> PublishTargetOptions(bool for_import) {
  struct TargetOption {
    OptionSpec spec;
    absl::string_view import_description;
  };
  static constexpr TargetOption kOptions[] = {
      {{.name = "server",
        .value_name = "FQDN",
        .description = "the transport server presenting this certificate"},
       "with --enable: the transport server presenting it"},
      {{.name = "domain",
        .value_name = "MAIL-DOMAIN",
        .description = "a mail domain the server serves (repeatable; needed\n"
                       "when the server is not published yet)",
        .repeatable = true},
       "with --enable: a mail domain it serves (repeatable;\n"
       "needed when the server is not published yet)"},
      {{.name = "pin",
        .value_name = "cert|key",
        .description = "cert (default): trust exactly this certificate;\n"
                       "key: trust any certificate with this public key, so\n"
                       "renewals that keep the key stay trusted"},
       "with --enable: what to trust (see dtrust help\npublish)"},
      {{.name = "not-before",
        .value_name = "TIME",
        .description = "the pin trusts only from TIME on"},
       "with --enable: the pin window (see dtrust help\npublish)"},
      {{.name = "not-after",
        .value_name = "TIME",
        .description = "the pin trusts only until TIME"},
       "with --enable: the pin window (see dtrust help\npublish)"},
  };
  std::vector<OptionSpec> options;
  for (const TargetOption& option : kOptions) {
    options.push_back(option.spec);
    if (for_import) options.back().description = option.import_description;
  }
  return options;
}

absl::StatusOr<v1::PublishRequest> MakePublishRequest(const ParsedArgs& args,
                                                      absl::string_view command,
                                                      absl::string_view what) {
  if (!args.Has("server")) {
    return UsageError(command, absl::StrCat(what, " needs --server FQDN"));
  }
  v1::PublishRequest request;
  DTRUST_ASSIGN_OR_RETURN(*request.mutable_server(),
                          NormalizeDnsName(*args.Value("server"), "--server"));
  for (const std::string& domain : args.Values("domain")) {
    DTRUST_ASSIGN_OR_RETURN(*request.add_domains(),
                            NormalizeDnsName(domain, "--domain"));
  }
  DTRUST_ASSIGN_OR_RETURN(
      v1::PinKind kind,
      ParsePinKind(args.Value("pin").value_or("cert"), command));
  request.set_pin_kind(kind);
  if (std::optional<std::string> text = args.Value("not-before")) {
    DTRUST_ASSIGN_OR_RETURN(*request.mutable_pin_not_before(),
                            ParseTimeOption("not-before", *text, command));
  }
  if (std::optional<std::string> text = args.Value("not-after")) {
    DTRUST_ASSIGN_OR_RETURN(*request.mutable_pin_not_after(),
                            ParseTimeOption("not-after", *text, command));
  }
  return request;
}

absl::StatusOr<ExitCode> PublishAndReport(const Invocation& invocation,
                                          const v1::PublishRequest& request,
                                          absl::string_view label) {
  DTRUST_ASSIGN_OR_RETURN(v1::PublishResponse response,
                          invocation.dtrustd.Publish(request));
  if (invocation.json) {
    JsonWriter json(invocation.out);
    WriteJson(response, json);
    invocation.out->push_back('\n');
  } else {
    AppendText(label, response, invocation.out);
  }
  return ExitCode::kOk;
}

}  // namespace dtrust::cli
