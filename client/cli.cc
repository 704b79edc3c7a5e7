#include "client/cli.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "client/command.h"
#include "client/command_line.h"
#include "client/grpc_dtrustd_client.h"
#include "client/input.h"
#include "server/base/status_macros.h"

namespace dtrust::cli {
namespace {

// For UsageError: points to the general help.
constexpr absl::string_view kGeneral = "";

constexpr absl::Duration kDefaultTimeout = absl::Seconds(10);

constexpr OptionSpec kGlobalOptions[] = {
    {.name = "endpoint",
     .value_name = "HOST:PORT|unix:PATH",
     .description = "dtrustd to talk to (default: $DTRUST_ENDPOINT, else\n"
                    "unix:/run/dtrust/dtrustd.sock)"},
    {.name = "tls-cert",
     .value_name = "FILE",
     .description = "present this client certificate (PEM) to dtrustd\n"
                    "over TLS (default: $DTRUST_CERT); dtrustd identifies\n"
                    "the client by the certificate's SHA-256"},
    {.name = "tls-key",
     .value_name = "FILE",
     .description = "the client certificate's key (PEM) (default:\n"
                    "$DTRUST_KEY)"},
    {.name = "server-sha256",
     .value_name = "HEX",
     .description = "TLS: dtrustd must present exactly the certificate\n"
                    "with this SHA-256 (default: $DTRUST_SERVER_SHA256)"},
    {.name = "ca",
     .value_name = "FILE",
     .description = "TLS: or authenticate dtrustd by this CA instead"},
    {.name = "timeout",
     .value_name = "DURATION",
     .description = "deadline for the request, e.g. 10s, 500ms (default\n"
                    "10s)"},
    {.name = "json",
     .description = "print one JSON document on stdout instead of text"},
};

constexpr absl::string_view kIntro =
    R"(usage: dtrust [GLOBAL-OPTIONS] COMMAND [OPTIONS] [ARGS]

Publishes and checks the certificates that mail transport servers present
for direct trust, through dtrustd. A peer is trusted when exactly its
certificate (or, with a key pin, its public key) is published for it.
)";

constexpr absl::string_view kNotes =
    R"(publish, verify and unpublish take a certificate file as PEM or DER,
exactly one certificate of at most 65536 bytes; import also reads PKCS#12
and files holding a key or a chain.

Exit codes:
  0  success; for verify: TRUSTED; for status: serving
  1  verify answered with another verdict (NOT_PUBLISHED, WRONG_SERVER,
     WRONG_DOMAIN, EXPIRED, NOT_YET_VALID, PIN_EXPIRED, PIN_NOT_YET_ACTIVE);
     expiring found pins whose trust lapses within the duration
  2  usage error or bad input; nothing was changed (unknown option, bad name
     or fingerprint, unreadable or invalid certificate file, input rejected
     by dtrustd, unpublishing what is not published)
  3  dtrustd or the directory is unavailable, did not answer in time, or
     failed otherwise; try again later; for status: dtrustd is not serving
  4  not allowed: dtrustd refused the request because the caller has no
     identity (UNAUTHENTICATED) or its role or scopes do not allow it
     (PERMISSION_DENIED); nothing was changed
)";

std::vector<Command> AllCommands() {
  return {PublishCommand(),   VerifyCommand(),   ListCommand(),
          UnpublishCommand(), DomainCommand(),   ClientCommand(),
          HistoryCommand(),   RequestCommand(),  SelfsignCommand(),
          ImportCommand(),    ExpiringCommand(), StatusCommand()};
}

// `dtrust help [TOPIC]`.
absl::StatusOr<ExitCode> Help(const CommandLine& command_line,
                              const std::vector<Command>& commands,
                              const std::vector<std::string>& topics,
                              std::string* out) {
  if (topics.empty()) {
    out->append(command_line.GeneralHelp());
    return ExitCode::kOk;
  }
  const std::string& topic = topics[0];
  const auto it =
      std::find_if(commands.begin(), commands.end(),
                   [&topic](const Command& c) { return c.name == topic; });
  if (topics.size() > 1 || it == commands.end()) {
    return UsageError(kGeneral, absl::StrCat("no help for ", topic));
  }
  out->append(command_line.CommandHelp(*it));
  return ExitCode::kOk;
}

absl::StatusOr<DtrustdConnection> ConnectionFromArgs(const ParsedArgs& args,
                                                     GetEnv getenv) {
  DtrustdConnection connection{.timeout = kDefaultTimeout};
  if (std::optional<std::string> text = args.Value("timeout")) {
    DTRUST_ASSIGN_OR_RETURN(connection.timeout, ParseTimeout(*text));
  }
  connection.endpoint =
      args.Value("endpoint")
          .value_or(getenv("DTRUST_ENDPOINT").value_or(kDefaultEndpoint));
  if (connection.endpoint.empty()) {
    return UsageError(kGeneral,
                      "the endpoint is empty (--endpoint or DTRUST_ENDPOINT)");
  }
  const auto flag_or_env = [&](const char* flag, const char* variable) {
    return args.Value(flag).value_or(getenv(variable).value_or(""));
  };
  connection.security = {
      .cert_file = flag_or_env("tls-cert", "DTRUST_CERT"),
      .key_file = flag_or_env("tls-key", "DTRUST_KEY"),
      .server_sha256 = flag_or_env("server-sha256", "DTRUST_SERVER_SHA256"),
      .ca_file = args.Value("ca").value_or("")};
  return connection;
}

absl::StatusOr<std::shared_ptr<DtrustdClient>> ConnectOverGrpc(
    const DtrustdConnection& connection) {
  DTRUST_ASSIGN_OR_RETURN(ChannelSecurity security,
                          MakeChannelSecurity(connection.security));
  return std::make_shared<GrpcDtrustdClient>(
      connection.endpoint, connection.timeout, std::move(security));
}

absl::StatusOr<ExitCode> Dispatch(absl::Span<const std::string> args,
                                  GetEnv getenv, ConnectDtrustd connect,
                                  std::string* out) {
  const std::vector<Command> commands = AllCommands();
  CommandLine command_line(kIntro, kNotes, kGlobalOptions, commands);
  DTRUST_ASSIGN_OR_RETURN(ParsedCommandLine parsed, command_line.Parse(args));
  if (parsed.help_topics.has_value()) {
    return Help(command_line, commands, *parsed.help_topics, out);
  }
  if (parsed.command == nullptr) {
    if (!parsed.help) return UsageError(kGeneral, "missing command");
    out->append(command_line.GeneralHelp());
    return ExitCode::kOk;
  }
  if (parsed.help) {
    out->append(command_line.CommandHelp(*parsed.command));
    return ExitCode::kOk;
  }
  DTRUST_ASSIGN_OR_RETURN(const DtrustdConnection connection,
                          ConnectionFromArgs(parsed.args, getenv));
  DTRUST_ASSIGN_OR_RETURN(const std::shared_ptr<DtrustdClient> dtrustd,
                          connect(connection));
  return parsed.command->run({.args = parsed.args,
                              .subcommand = parsed.subcommand,
                              .dtrustd = *dtrustd,
                              .json = parsed.args.Has("json"),
                              .out = out});
}

}  // namespace

ExitCode RunCli(absl::Span<const std::string> args, GetEnv getenv,
                std::string* out, std::string* err) {
  return RunCli(args, getenv, ConnectOverGrpc, out, err);
}

ExitCode RunCli(absl::Span<const std::string> args, GetEnv getenv,
                ConnectDtrustd connect, std::string* out, std::string* err) {
  std::string output;
  absl::StatusOr<ExitCode> result = Dispatch(args, getenv, connect, &output);
  if (!result.ok()) {
    absl::StrAppend(err, "dtrust: ", result.status().message(), "\n");
    return ExitCodeForError(result.status());
  }
  out->append(output);
  return *result;
}

}  // namespace dtrust::cli
