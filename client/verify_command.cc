// dtrust verify: is a certificate published, and for whom?
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
    R"(usage: dtrust verify CERT-FILE [--server FQDN] [--domain MAIL-DOMAIN]
       dtrust verify --sha256 HEX | --spki-sha256 HEX
                     [--server FQDN] [--domain MAIL-DOMAIN]

Asks whether the certificate in CERT-FILE (PEM or DER), or the certificate
with the given fingerprints, is published, and prints the verdict first:
  TRUSTED        published (as a certificate or key pin) and valid now
  NOT_PUBLISHED  neither the certificate nor a pinned key is published
  WRONG_SERVER   published, but for another server than --server
  WRONG_DOMAIN   published for a server not serving --domain
  EXPIRED        published, but past its notAfter
  NOT_YET_VALID  published, but before its notBefore
  PIN_EXPIRED    published and valid, but its pin window has ended
  PIN_NOT_YET_ACTIVE
                 published and valid, but its pin window lies ahead
followed by the server and its mail domains, the fingerprints, pin kind,
validity, the pin window (if any), the pin's provenance (possession-proven,
or asserted by whom) and, unless TRUSTED, the reason.
)";

absl::Status ReadSubject(const ParsedArgs& args, v1::VerifyRequest& request) {
  const bool by_fingerprint = args.Has("sha256") || args.Has("spki-sha256");
  if (args.positionals().size() > 1) {
    return UsageError("verify", "verify takes one certificate file");
  }
  if (by_fingerprint == (args.positionals().size() == 1)) {
    return UsageError(
        "verify",
        "verify needs either a certificate file or --sha256/--spki-sha256");
  }
  if (!by_fingerprint) {
    DTRUST_ASSIGN_OR_RETURN(Certificate certificate,
                            ReadCertificateFile(args.positionals()[0]));
    request.set_certificate_der(certificate.der());
    return absl::OkStatus();
  }
  if (std::optional<std::string> hex = args.Value("sha256")) {
    DTRUST_ASSIGN_OR_RETURN(Sha256Digest digest,
                            Sha256Digest::FromHex(*hex, "--sha256"));
    request.set_sha256(std::string(digest.bytes()));
  }
  if (std::optional<std::string> hex = args.Value("spki-sha256")) {
    DTRUST_ASSIGN_OR_RETURN(Sha256Digest digest,
                            Sha256Digest::FromHex(*hex, "--spki-sha256"));
    request.set_spki_sha256(std::string(digest.bytes()));
  }
  return absl::OkStatus();
}

void WriteJson(const v1::VerifyResponse& response, JsonWriter& json) {
  const auto hex = [](const std::string& bytes) -> std::optional<std::string> {
    if (bytes.empty()) return std::nullopt;
    return LowerHex(bytes);
  };
  json.BeginObject();
  json.Field("verdict", v1::Verdict_Name(response.verdict()));
  json.Field("reason", response.reason());
  json.NullableField("sha256", hex(response.sha256()));
  json.NullableField("spki_sha256", hex(response.spki_sha256()));
  json.NullableField("server",
                     response.server().empty()
                         ? std::nullopt
                         : std::optional<std::string>(response.server()));
  json.StringArray("domains",
                   {response.domains().begin(), response.domains().end()});
  json.NullableField("pin_kind", PinKindLabel(response.pin_kind()));
  json.NullableField("not_before", OptionalRfc3339(response.has_not_before(),
                                                   response.not_before()));
  json.NullableField("not_after", OptionalRfc3339(response.has_not_after(),
                                                  response.not_after()));
  json.NullableField("pin_not_before",
                     OptionalRfc3339(response.has_pin_not_before(),
                                     response.pin_not_before()));
  json.NullableField(
      "pin_not_after",
      OptionalRfc3339(response.has_pin_not_after(), response.pin_not_after()));
  json.NullableField("provenance", ProvenanceLabel(response.provenance()));
  json.NullableField("publisher",
                     response.publisher().empty()
                         ? std::nullopt
                         : std::optional<std::string>(response.publisher()));
  json.Key("snapshot_age_ms");
  if (response.has_snapshot_age()) {
    json.Uint(static_cast<uint64_t>(response.snapshot_age().seconds()) * 1000 +
              static_cast<uint64_t>(response.snapshot_age().nanos()) / 1000000);
  } else {
    json.Null();
  }
  json.EndObject();
}

void AppendText(const v1::VerifyResponse& response, std::string* out) {
  absl::StrAppend(out, v1::Verdict_Name(response.verdict()));
  if (!response.server().empty()) {
    std::vector<std::string> names = {response.server()};
    names.insert(names.end(), response.domains().begin(),
                 response.domains().end());
    absl::StrAppend(out, " (", absl::StrJoin(names, ", "), ")");
  }
  out->push_back('\n');
  if (response.verdict() != v1::TRUSTED) {
    AppendDetail("  ", "reason", response.reason(), out);
  }
  AppendDetail("  ", "sha256", ColonHex(response.sha256()), out);
  AppendDetail("  ", "spki-sha256", ColonHex(response.spki_sha256()), out);
  AppendDetail("  ", "pin", PinKindLabel(response.pin_kind()).value_or(""),
               out);
  AppendDetail("  ", "not-before",
               OptionalRfc3339(response.has_not_before(), response.not_before())
                   .value_or(""),
               out);
  AppendDetail("  ", "not-after",
               OptionalRfc3339(response.has_not_after(), response.not_after())
                   .value_or(""),
               out);
  if (const std::string window = PinWindowText(response); !window.empty()) {
    AppendDetail("  ", "pin window", window, out);
  }
  if (response.provenance() != v1::PIN_PROVENANCE_UNSPECIFIED) {
    AppendDetail("  ", "provenance",
                 ProvenanceText(response.provenance(), response.publisher()),
                 out);
  }
  // Only when dtrustd answered from data not followed live (a poll, or the
  // last snapshot while the directory is unreachable).
  const absl::Duration age = absl::Seconds(response.snapshot_age().seconds()) +
                             absl::Nanoseconds(response.snapshot_age().nanos());
  if (age > absl::ZeroDuration()) {
    AppendDetail("  ", "snapshot-age",
                 absl::FormatDuration(absl::Trunc(age, absl::Milliseconds(1))),
                 out);
  }
}

absl::StatusOr<ExitCode> RunVerify(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  v1::VerifyRequest request;
  if (std::optional<std::string> server = args.Value("server")) {
    DTRUST_ASSIGN_OR_RETURN(*request.mutable_expected_server(),
                            NormalizeDnsName(*server, "--server"));
  }
  if (std::optional<std::string> domain = args.Value("domain")) {
    DTRUST_ASSIGN_OR_RETURN(*request.mutable_expected_domain(),
                            NormalizeDnsName(*domain, "--domain"));
  }
  DTRUST_RETURN_IF_ERROR(ReadSubject(args, request));

  DTRUST_ASSIGN_OR_RETURN(v1::VerifyResponse response,
                          invocation.dtrustd.Verify(request));
  if (invocation.json) {
    JsonWriter json(invocation.out);
    WriteJson(response, json);
    invocation.out->push_back('\n');
  } else {
    AppendText(response, invocation.out);
  }
  return response.verdict() == v1::TRUSTED ? ExitCode::kOk
                                           : ExitCode::kNotTrusted;
}

}  // namespace

Command VerifyCommand() {
  return {.name = "verify",
          .summary = "check whether a certificate is published, and for whom",
          .help = kHelp,
          .options = {{.name = "sha256",
                       .value_name = "HEX",
                       .description = "SHA-256 of the certificate (DER)"},
                      {.name = "spki-sha256",
                       .value_name = "HEX",
                       .description = "SHA-256 of its public key "
                                      "(SubjectPublicKeyInfo)"},
                      {.name = "server",
                       .value_name = "FQDN",
                       .description = "the server the peer claims to be"},
                      {.name = "domain",
                       .value_name = "MAIL-DOMAIN",
                       .description = "a mail domain the peer must serve"}},
          .notes = "HEX is 64 hex digits, any case, with or without colons.\n",
          .run = RunVerify};
}

}  // namespace dtrust::cli
