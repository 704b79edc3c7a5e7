// What every dtrust subcommand is given and how it is described.
#ifndef DTRUST_CLIENT_COMMAND_H_
#define DTRUST_CLIENT_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/dtrustd_client.h"
#include "client/exit_code.h"
#include "client/options.h"

namespace dtrust::cli {

// One run of a command. Not owned; valid for the duration of Command::run.
struct Invocation {
  const ParsedArgs& args;  // Global and command options, positionals.
  // The subcommand word ("add" in `dtrust domain add`); empty if none.
  absl::string_view subcommand;
  DtrustdClient& dtrustd;
  bool json;         // --json: write one JSON document.
  std::string* out;  // Everything for stdout; written only on success.
};

// A word after the command's name selecting what it does (`domain add`).
struct SubcommandSpec {
  absl::string_view name;
  absl::string_view summary;  // One line for the command's help.
};

struct Command {
  absl::string_view name;
  absl::string_view summary;  // One line for the command overview.
  // Usage lines and what the command does, for `dtrust help COMMAND`, which
  // lists the options (from their declarations) after it, then `notes`.
  absl::string_view help;
  std::vector<OptionSpec> options;  // Besides the global ones.
  absl::string_view notes = "";     // E.g. the --json format; may be empty.
  std::vector<SubcommandSpec> subcommands = {};
  // Validates its input before calling dtrustd. Returns kOk, kNotTrusted,
  // or (status: answered "not serving") kUnavailable; errors map to exit
  // codes through ExitCodeForError.
  absl::StatusOr<ExitCode> (*run)(const Invocation& invocation);
};

// InvalidArgument "MESSAGE (see 'dtrust help COMMAND')", or "MESSAGE (see
// 'dtrust help')" if `command` is empty.
absl::Status UsageError(absl::string_view command, absl::string_view message);

// The ListRequest for --server / --domain (validated), as list and expiring
// take them.
absl::StatusOr<v1::ListRequest> ListRequestFromArgs(const ParsedArgs& args);

// The commands, in the order `dtrust help` lists them.
Command PublishCommand();
Command VerifyCommand();
Command ListCommand();
Command UnpublishCommand();
Command DomainCommand();
Command ClientCommand();   // client_command.cc
Command HistoryCommand();  // history_command.cc
// Certificate lifecycle (keygen_commands.cc, import_command.cc).
Command RequestCommand();
Command SelfsignCommand();
Command ImportCommand();
// Monitoring (expiring_command.cc, status_command.cc).
Command ExpiringCommand();
Command StatusCommand();

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_COMMAND_H_
