// dtrust unpublish: remove a published certificate.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/command.h"
#include "client/format.h"
#include "client/input.h"
#include "server/base/hex.h"
#include "server/base/status_macros.h"
#include "server/core/digest.h"
#include "server/core/dns_name.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kHelp =
    R"(usage: dtrust unpublish [--server FQDN] (CERT-FILE | --sha256 HEX)

Removes the certificate in CERT-FILE (PEM or DER), or the one with the given
SHA-256 fingerprint, from FQDN, or from every server it is published for when
--server is not given. A server entry whose last certificate this was is
removed too. Unpublishing what is not published fails (exit code 2).
)";

// The request for `args`, validated locally.
absl::StatusOr<v1::UnpublishRequest> MakeRequest(const ParsedArgs& args) {
  if (args.positionals().size() > 1) {
    return UsageError("unpublish", "unpublish takes one certificate file");
  }
  if (args.Has("sha256") == (args.positionals().size() == 1)) {
    return UsageError("unpublish",
                      "unpublish needs either a certificate file or --sha256");
  }
  v1::UnpublishRequest request;
  if (std::optional<std::string> server = args.Value("server")) {
    DTRUST_ASSIGN_OR_RETURN(*request.mutable_server(),
                            NormalizeDnsName(*server, "--server"));
  }
  if (std::optional<std::string> hex = args.Value("sha256")) {
    DTRUST_ASSIGN_OR_RETURN(Sha256Digest digest,
                            Sha256Digest::FromHex(*hex, "--sha256"));
    request.set_sha256(std::string(digest.bytes()));
  } else {
    DTRUST_ASSIGN_OR_RETURN(Certificate certificate,
                            ReadCertificateFile(args.positionals()[0]));
    request.set_certificate_der(certificate.der());
  }
  return request;
}

void WriteJson(const v1::UnpublishResponse& response, JsonWriter& json) {
  json.BeginObject();
  json.Field("sha256", LowerHex(response.sha256()));
  json.StringArray("servers",
                   {response.servers().begin(), response.servers().end()});
  json.StringArray("servers_removed", {response.servers_removed().begin(),
                                       response.servers_removed().end()});
  json.EndObject();
}

void AppendText(const v1::UnpublishResponse& response, std::string* out) {
  absl::StrAppend(out, "unpublished ", ColonHex(response.sha256()), " from ",
                  absl::StrJoin(response.servers(), ", "), "\n");
  for (const std::string& server : response.servers_removed()) {
    absl::StrAppend(out, "removed server ", server,
                    " (no certificates left)\n");
  }
}

absl::StatusOr<ExitCode> RunUnpublish(const Invocation& invocation) {
  DTRUST_ASSIGN_OR_RETURN(v1::UnpublishRequest request,
                          MakeRequest(invocation.args));
  DTRUST_ASSIGN_OR_RETURN(v1::UnpublishResponse response,
                          invocation.dtrustd.Unpublish(request));
  if (invocation.json) {
    JsonWriter json(invocation.out);
    WriteJson(response, json);
    invocation.out->push_back('\n');
  } else {
    AppendText(response, invocation.out);
  }
  return ExitCode::kOk;
}

}  // namespace

Command UnpublishCommand() {
  return {.name = "unpublish",
          .summary = "remove a published certificate",
          .help = kHelp,
          .options = {{.name = "server",
                       .value_name = "FQDN",
                       .description = "only from this server"},
                      {.name = "sha256",
                       .value_name = "HEX",
                       .description =
                           "SHA-256 of the certificate (DER): 64 hex digits,\n"
                           "any case, with or without colons"}},
          .run = RunUnpublish};
}

}  // namespace dtrust::cli
