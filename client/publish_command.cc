// dtrust publish: publish a server's certificate or key.
#include "client/command.h"
#include "client/credentials.h"
#include "client/input.h"
#include "client/possession.h"
#include "client/publish.h"
#include "server/base/files.h"
#include "server/base/status_macros.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kHelp =
    R"(usage: dtrust publish --server FQDN [--domain MAIL-DOMAIN]...
                      [--pin cert|key] [--not-before TIME] [--not-after TIME]
                      [--key KEY-FILE [--password-file PW-FILE]] CERT-FILE

Publishes the certificate in CERT-FILE (PEM or DER) for the transport server
FQDN, creating the server entry on first use and adding the mail domains it
serves. Publishing what is already published succeeds ("already published")
and only adds new domains; publishing it with another --pin or pin window
updates the pin and says what changed.

With --key, dtrust proves to dtrustd that you hold the certificate's private
key (it signs a challenge from dtrustd; the key never leaves this machine)
and the pin is recorded as "possession-proven": do this for your own
servers. Without it the pin is "asserted by" the client dtrustd saw: the
normal case for a partner organization's certificate, whose key you do not
have. dtrustd may require proof for its organization's own domains
(dtrustd --require-proof-for). Republishing with --key upgrades an asserted
pin to possession-proven.
)";

constexpr absl::string_view kNotes =
    R"(TIME is RFC 3339 (2026-12-01T00:00:00Z) or a date (2026-12-01, 00:00 UTC)
and must lie within the certificate's validity. The pin window is for
rollover: end the current certificate's pin at the switch-over, start the
next one's a little earlier. Outside its window a pin is not trusted
(verify: PIN_EXPIRED, PIN_NOT_YET_ACTIVE). Republishing without them
removes the window.
)";

absl::StatusOr<ExitCode> RunPublish(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  if (args.positionals().size() != 1) {
    return UsageError("publish", "publish needs exactly one certificate file");
  }
  DTRUST_ASSIGN_OR_RETURN(v1::PublishRequest request,
                          MakePublishRequest(args, "publish", "publish"));
  const std::string& path = args.positionals()[0];
  DTRUST_ASSIGN_OR_RETURN(Certificate certificate, ReadCertificateFile(path));
  request.set_certificate_der(certificate.der());
  if (std::optional<std::string> key_path = args.Value("key")) {
    std::optional<std::string> password;
    if (std::optional<std::string> file = args.Value("password-file")) {
      DTRUST_ASSIGN_OR_RETURN(password, ReadPasswordFile(*file));
    }
    DTRUST_ASSIGN_OR_RETURN(const EvpPkeyPtr key,
                            ReadKeyFor(*key_path, password, certificate, path));
    DTRUST_RETURN_IF_ERROR(
        ProvePossession(invocation.dtrustd, key.get(), &request));
  } else if (args.Has("password-file")) {
    return UsageError("publish", "--password-file is for --key");
  }
  return PublishAndReport(invocation, request, path);
}

}  // namespace

Command PublishCommand() {
  std::vector<OptionSpec> options = PublishTargetOptions(/*for_import=*/false);
  options.push_back(
      {.name = "key",
       .value_name = "KEY-FILE",
       .description = "the certificate's private key (PEM, DER or PKCS#12):\n"
                      "prove possession of it; it must match the certificate"});
  options.push_back(
      {.name = "password-file",
       .value_name = "PW-FILE",
       .description = "the password of an encrypted KEY-FILE: its first line"});
  return {.name = "publish",
          .summary = "publish a server's certificate (or its key)",
          .help = kHelp,
          .options = std::move(options),
          .notes = kNotes,
          .run = RunPublish};
}

}  // namespace dtrust::cli
