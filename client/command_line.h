// The dtrust command line on CLI11: one subcommand per Command, options and
// help generated from their OptionSpecs.
#ifndef DTRUST_CLIENT_COMMAND_LINE_H_
#define DTRUST_CLIENT_COMMAND_LINE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "client/command.h"
#include "client/options.h"

namespace CLI {
class App;
class Formatter;
class Option;
}  // namespace CLI

namespace dtrust::cli {

// What a command line asks for.
struct ParsedCommandLine {
  const Command* command = nullptr;  // Null if no command was given.
  std::string subcommand{};          // E.g. "add" in `dtrust domain add`.
  bool help = false;                 // --help or -h.
  // `dtrust help [TOPIC...]`: the words after "help" (then `command` is
  // null).
  std::optional<std::vector<std::string>> help_topics{};
  ParsedArgs args{};  // Global and command options, positionals.
};

// `dtrust [GLOBAL-OPTIONS] COMMAND [SUBCOMMAND] [OPTIONS] [ARGS]`. Global
// options may also come after the command; options and positionals may mix.
// Not thread-safe; one Parse per object.
class CommandLine {
 public:
  // `intro` heads the general help; `notes` (exit codes, ...) ends every
  // help. The commands, specs and texts must outlive this object.
  CommandLine(absl::string_view intro, absl::string_view notes,
              absl::Span<const OptionSpec> global_options,
              const std::vector<Command>& commands);
  ~CommandLine();

  // InvalidArgument "MESSAGE (see 'dtrust help[ COMMAND]')" for an unknown
  // option or command, a missing value, or a non-repeatable option given
  // twice.
  absl::StatusOr<ParsedCommandLine> Parse(absl::Span<const std::string> args);

  // The overview: intro, commands, global options, notes.
  std::string GeneralHelp() const;
  // One command's help, then the global options and notes.
  std::string CommandHelp(const Command& command) const;

 private:
  // Declares `specs` as options of `app`, listed in its help under `group`.
  void DeclareOptions(absl::Span<const OptionSpec> specs, CLI::App& app,
                      absl::string_view group);
  // Declares `command` as a subcommand, with its options and subcommands.
  void Declare(const Command& command);
  // InvalidArgument for the first unrecognized word on the command line.
  absl::Status CheckExtras(const Command* command) const;
  // Collects the given options and positionals of `app` into `args`;
  // InvalidArgument for a non-repeatable option given twice.
  absl::Status Collect(const CLI::App& app, ParsedArgs& args) const;
  // The global options and the notes, ending every help.
  std::string GlobalHelp() const;

  const absl::string_view notes_;
  const std::shared_ptr<CLI::Formatter> formatter_;
  const std::unique_ptr<CLI::App> app_;
  CLI::Option* help_flag_ = nullptr;  // --help, -h.
  CLI::App* help_ = nullptr;          // The `help` pseudo-command.
  // The declaration of each option declared to CLI11.
  std::map<const CLI::Option*, const OptionSpec*> specs_;
  // Unrecognized words on the command line before the command's name.
  size_t extras_before_command_ = 0;
  const Command* seen_command_ = nullptr;  // Once its name was parsed.
};

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_COMMAND_LINE_H_
