#include "client/cli.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "client/args.h"
#include "client/channel_security.h"
#include "client/command.h"
#include "client/dtrustd_client.h"
#include "client/input.h"
#include "server/core/status_macros.h"

namespace dtrust::cli {
namespace {

// For UsageError: points to the general help.
constexpr absl::string_view kGeneral = "";

constexpr absl::Duration kDefaultTimeout = absl::Seconds(10);

constexpr OptionSpec kGlobalOptions[] = {
    {.name = "endpoint", .takes_value = true},
    {.name = "tls-cert", .takes_value = true},
    {.name = "tls-key", .takes_value = true},
    {.name = "server-sha256", .takes_value = true},
    {.name = "ca", .takes_value = true},
    {.name = "timeout", .takes_value = true},
    {.name = "json"},
    {.name = "help"},
};

constexpr absl::string_view kIntro =
    R"(usage: dtrust [GLOBAL-OPTIONS] COMMAND [OPTIONS] [ARGS]

Publishes and checks the certificates that mail transport servers present
for direct trust, through dtrustd. A peer is trusted when exactly its
certificate (or, with a key pin, its public key) is published for it.
)";

constexpr absl::string_view kGlobalHelp =
    R"(Global options (before or after the command):
  --endpoint HOST:PORT|unix:PATH
                 dtrustd to talk to (default: $DTRUST_ENDPOINT, else
                 unix:/run/dtrust/dtrustd.sock)
  --tls-cert FILE, --tls-key FILE
                 present this client certificate and key (PEM) to dtrustd
                 over TLS (default: $DTRUST_CERT, $DTRUST_KEY); dtrustd
                 identifies the client by the certificate's SHA-256
  --server-sha256 HEX
                 TLS: dtrustd must present exactly the certificate with
                 this SHA-256 (default: $DTRUST_SERVER_SHA256)
  --ca FILE      TLS: or authenticate dtrustd by this CA instead
  --timeout DURATION
                 deadline for the request, e.g. 10s, 500ms (default 10s)
  --json         print one JSON document on stdout instead of text
  --help, -h     show help

publish, verify and unpublish take a certificate file as PEM or DER,
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

std::string GeneralHelp(const std::vector<Command>& commands) {
  std::string help = absl::StrCat(kIntro, "\nCommands:\n");
  for (const Command& command : commands) {
    absl::StrAppendFormat(&help, "  %-11s%s\n", command.name, command.summary);
  }
  absl::StrAppendFormat(&help, "  %-11s%s\n", "help",
                        "show this help, or a command's: dtrust help COMMAND");
  absl::StrAppend(&help, "\n", kGlobalHelp);
  return help;
}

std::string CommandHelp(const Command& command) {
  return absl::StrCat(command.help, "\n", kGlobalHelp);
}

// Index in `args` of the command word: the first argument that is neither a
// global option nor its value. args.size() if there is none.
absl::StatusOr<size_t> FindCommand(absl::Span<const std::string> args) {
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") return i + 1;
    if (arg == "-h") continue;
    if (arg.size() < 2 || arg[0] != '-') return i;
    absl::string_view name = absl::StripPrefix(arg, "--");
    const bool inline_value = absl::StrContains(name, '=');
    name = name.substr(0, name.find('='));
    const auto* spec =
        std::find_if(std::begin(kGlobalOptions), std::end(kGlobalOptions),
                     [name](const OptionSpec& s) { return s.name == name; });
    if (spec == std::end(kGlobalOptions)) {
      return UsageError(
          kGeneral,
          absl::StrCat("unknown option ", arg,
                       " before the command (command options go after it)"));
    }
    if (spec->takes_value && !inline_value) ++i;
  }
  return args.size();
}

// `dtrust help [TOPIC]`, or `dtrust --help`.
absl::StatusOr<ExitCode> Help(const ParsedArgs& parsed,
                              const std::vector<Command>& commands,
                              std::string* out) {
  if (parsed.positionals().empty()) {
    out->append(GeneralHelp(commands));
    return ExitCode::kOk;
  }
  const std::string& topic = parsed.positionals()[0];
  const auto it =
      std::find_if(commands.begin(), commands.end(),
                   [&topic](const Command& c) { return c.name == topic; });
  if (parsed.positionals().size() > 1 || it == commands.end()) {
    return UsageError(kGeneral, absl::StrCat("no help for ", topic));
  }
  out->append(CommandHelp(*it));
  return ExitCode::kOk;
}

absl::StatusOr<ExitCode> Dispatch(absl::Span<const std::string> args,
                                  GetEnv getenv, std::string* out) {
  const std::vector<Command> commands = AllCommands();
  DTRUST_ASSIGN_OR_RETURN(const size_t command_index, FindCommand(args));
  std::vector<std::string> rest(args.begin(), args.end());
  std::string name;
  if (command_index < args.size()) {
    name = args[command_index];
    rest.erase(rest.begin() + command_index);
  }
  const auto command =
      std::find_if(commands.begin(), commands.end(),
                   [&name](const Command& c) { return c.name == name; });
  if (command == commands.end() && !name.empty() && name != "help") {
    return UsageError(kGeneral, absl::StrCat("unknown command ", name));
  }

  std::vector<OptionSpec> specs(std::begin(kGlobalOptions),
                                std::end(kGlobalOptions));
  if (command != commands.end()) {
    specs.insert(specs.end(), command->options.begin(), command->options.end());
  }
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(rest, specs);
  if (!parsed.ok() && command != commands.end()) {
    return UsageError(command->name, parsed.status().message());
  }
  if (!parsed.ok()) return UsageError(kGeneral, parsed.status().message());

  if (command == commands.end()) {
    if (name.empty() && !parsed->Has("help")) {
      return UsageError(kGeneral, "missing command");
    }
    return Help(*parsed, commands, out);
  }
  if (parsed->Has("help")) {
    out->append(CommandHelp(*command));
    return ExitCode::kOk;
  }

  absl::Duration timeout = kDefaultTimeout;
  if (std::optional<std::string> text = parsed->Value("timeout")) {
    DTRUST_ASSIGN_OR_RETURN(timeout, ParseTimeout(*text));
  }
  std::string endpoint =
      parsed->Value("endpoint")
          .value_or(getenv("DTRUST_ENDPOINT").value_or(kDefaultEndpoint));
  if (endpoint.empty()) {
    return UsageError(kGeneral,
                      "the endpoint is empty (--endpoint or DTRUST_ENDPOINT)");
  }
  const auto flag_or_env = [&](const char* flag, const char* variable) {
    return parsed->Value(flag).value_or(getenv(variable).value_or(""));
  };
  DTRUST_ASSIGN_OR_RETURN(
      ChannelSecurity security,
      MakeChannelSecurity({.cert_file = flag_or_env("tls-cert", "DTRUST_CERT"),
                           .key_file = flag_or_env("tls-key", "DTRUST_KEY"),
                           .server_sha256 = flag_or_env("server-sha256",
                                                        "DTRUST_SERVER_SHA256"),
                           .ca_file = parsed->Value("ca").value_or("")}));
  DtrustdClient dtrustd(std::move(endpoint), timeout, std::move(security));
  return command->run({.args = *parsed,
                       .dtrustd = dtrustd,
                       .json = parsed->Has("json"),
                       .out = out});
}

}  // namespace

ExitCode RunCli(absl::Span<const std::string> args, GetEnv getenv,
                std::string* out, std::string* err) {
  std::string output;
  absl::StatusOr<ExitCode> result = Dispatch(args, getenv, &output);
  if (!result.ok()) {
    absl::StrAppend(err, "dtrust: ", result.status().message(), "\n");
    return ExitCodeForError(result.status());
  }
  out->append(output);
  return *result;
}

}  // namespace dtrust::cli
