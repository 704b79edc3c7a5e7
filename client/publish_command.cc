// dtrust publish: publish a server's certificate or key.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/command.h"
#include "client/format.h"
#include "client/input.h"
#include "server/core/dns_name.h"
#include "server/core/status_macros.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kHelp =
    R"(usage: dtrust publish --server FQDN [--domain MAIL-DOMAIN]...
                      [--pin cert|key] CERT-FILE

Publishes the certificate in CERT-FILE (PEM or DER) for the transport server
FQDN, creating the server entry on first use and adding the mail domains it
serves. Publishing what is already published succeeds ("already published")
and only adds new domains.

Options:
  --server FQDN         the transport server presenting this certificate
  --domain MAIL-DOMAIN  a mail domain the server serves (repeatable; needed
                        when the server is not published yet)
  --pin cert|key        cert (default): trust exactly this certificate;
                        key: trust any certificate with this public key, so
                        renewals that keep the key stay trusted
)";

absl::StatusOr<v1::PinKind> ParsePinKind(absl::string_view text) {
  if (text == "cert" || text == "certificate") return v1::PIN_KIND_CERTIFICATE;
  if (text == "key" || text == "public-key") return v1::PIN_KIND_PUBLIC_KEY;
  return UsageError("publish",
                    absl::StrCat("--pin ", text, ": must be cert or key"));
}

// The request for `args`, validated locally.
absl::StatusOr<v1::PublishRequest> MakeRequest(const ParsedArgs& args) {
  if (args.positionals().size() != 1) {
    return UsageError("publish", "publish needs exactly one certificate file");
  }
  if (!args.Has("server")) {
    return UsageError("publish", "publish needs --server FQDN");
  }
  v1::PublishRequest request;
  DTRUST_ASSIGN_OR_RETURN(*request.mutable_server(),
                          NormalizeDnsName(*args.Value("server"), "--server"));
  for (const std::string& domain : args.Values("domain")) {
    DTRUST_ASSIGN_OR_RETURN(*request.add_domains(),
                            NormalizeDnsName(domain, "--domain"));
  }
  DTRUST_ASSIGN_OR_RETURN(v1::PinKind kind,
                          ParsePinKind(args.Value("pin").value_or("cert")));
  request.set_pin_kind(kind);
  DTRUST_ASSIGN_OR_RETURN(Certificate certificate,
                          ReadCertificateFile(args.positionals()[0]));
  request.set_certificate_der(certificate.der());
  return request;
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

void AppendText(absl::string_view path, const v1::PublishResponse& response,
                std::string* out) {
  const std::string& server = response.server().name();
  switch (response.outcome()) {
    case v1::PublishResponse::ALREADY_PUBLISHED:
      absl::StrAppend(out, "already published ", path, " for ", server, "\n");
      break;
    case v1::PublishResponse::PIN_KIND_CHANGED:
      absl::StrAppend(out, "published ", path, " for ", server,
                      " (pin kind changed to ",
                      PinKindLabel(response.pin().kind()).value_or("?"), ")\n");
      break;
    default:
      absl::StrAppend(out, "published ", path, " for ", server, "\n");
  }
  AppendPinText(response.pin(), "  ", "  ", out);
  AppendDetail("  ", "domains added",
               absl::StrJoin(response.domains_added(), ", "), out);
  AppendDetail("  ", "domains",
               absl::StrJoin(response.server().domains(), ", "), out);
}

absl::StatusOr<ExitCode> RunPublish(const Invocation& invocation) {
  DTRUST_ASSIGN_OR_RETURN(v1::PublishRequest request,
                          MakeRequest(invocation.args));
  DTRUST_ASSIGN_OR_RETURN(v1::PublishResponse response,
                          invocation.dtrustd.Publish(request));
  if (invocation.json) {
    JsonWriter json(invocation.out);
    WriteJson(response, json);
    invocation.out->push_back('\n');
  } else {
    AppendText(invocation.args.positionals()[0], response, invocation.out);
  }
  return ExitCode::kOk;
}

}  // namespace

Command PublishCommand() {
  return {
      .name = "publish",
      .summary = "publish a server's certificate (or its key)",
      .help = kHelp,
      .options = {{.name = "server", .takes_value = true},
                  {.name = "domain", .takes_value = true, .repeatable = true},
                  {.name = "pin", .takes_value = true}},
      .run = RunPublish};
}

}  // namespace dtrust::cli
