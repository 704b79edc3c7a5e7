// dtrust publish: publish a server's certificate or key.
#include "client/command.h"
#include "client/input.h"
#include "client/publish.h"
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
