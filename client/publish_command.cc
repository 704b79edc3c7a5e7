// dtrust publish: publish a server's certificate or key.
#include "client/command.h"
#include "client/input.h"
#include "client/publish.h"
#include "server/core/status_macros.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kHelp =
    R"(usage: dtrust publish --server FQDN [--domain MAIL-DOMAIN]...
                      [--pin cert|key] [--not-before TIME] [--not-after TIME]
                      CERT-FILE

Publishes the certificate in CERT-FILE (PEM or DER) for the transport server
FQDN, creating the server entry on first use and adding the mail domains it
serves. Publishing what is already published succeeds ("already published")
and only adds new domains; publishing it with another --pin or pin window
updates the pin and says what changed.

Options:
  --server FQDN         the transport server presenting this certificate
  --domain MAIL-DOMAIN  a mail domain the server serves (repeatable; needed
                        when the server is not published yet)
  --pin cert|key        cert (default): trust exactly this certificate;
                        key: trust any certificate with this public key, so
                        renewals that keep the key stay trusted
  --not-before TIME     the pin trusts only from TIME on
  --not-after TIME      the pin trusts only until TIME
TIME is RFC 3339 (2026-12-01T00:00:00Z) or a date (2026-12-01, 00:00 UTC)
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
  DTRUST_ASSIGN_OR_RETURN(Certificate certificate,
                          ReadCertificateFile(args.positionals()[0]));
  request.set_certificate_der(certificate.der());
  return PublishAndReport(invocation, request, args.positionals()[0]);
}

}  // namespace

Command PublishCommand() {
  return {.name = "publish",
          .summary = "publish a server's certificate (or its key)",
          .help = kHelp,
          .options = PublishTargetOptions(),
          .run = RunPublish};
}

}  // namespace dtrust::cli
