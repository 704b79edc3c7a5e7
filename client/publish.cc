#include "client/publish.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/format.h"
#include "server/core/dns_name.h"
#include "server/core/status_macros.h"

namespace dtrust::cli {
namespace {

absl::StatusOr<v1::PinKind> ParsePinKind(absl::string_view text,
                                         absl::string_view command) {
  if (text == "cert" || text == "certificate") return v1::PIN_KIND_CERTIFICATE;
  if (text == "key" || text == "public-key") return v1::PIN_KIND_PUBLIC_KEY;
  return UsageError(command,
                    absl::StrCat("--pin ", text, ": must be cert or key"));
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
  json.EndObject();
}

void AppendText(absl::string_view label, const v1::PublishResponse& response,
                std::string* out) {
  const std::string& server = response.server().name();
  switch (response.outcome()) {
    case v1::PublishResponse::ALREADY_PUBLISHED:
      absl::StrAppend(out, "already published ", label, " for ", server, "\n");
      break;
    case v1::PublishResponse::PIN_KIND_CHANGED:
      absl::StrAppend(out, "published ", label, " for ", server,
                      " (pin kind changed to ",
                      PinKindLabel(response.pin().kind()).value_or("?"), ")\n");
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

std::vector<OptionSpec> PublishTargetOptions() {
  return {{.name = "server", .takes_value = true},
          {.name = "domain", .takes_value = true, .repeatable = true},
          {.name = "pin", .takes_value = true}};
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
