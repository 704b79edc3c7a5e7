#include "client/command_line.h"

#include <map>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/base/status_macros.h"

namespace dtrust::cli {
namespace {

// The positional arguments of a command (or subcommand), all of them.
constexpr char kPositionals[] = "ARGS";
constexpr char kCommandsGroup[] = "Commands";
constexpr char kOptionsGroup[] = "Options";
constexpr char kGlobalGroup[] = "Global options (before or after the command)";
constexpr size_t kColumnWidth = 24;

// For UsageError: points to the general help.
constexpr absl::string_view kGeneral = "";

// Every option of `app` (a subcommand) falls through to its parent's, so
// global options work after the command; positionals and options may mix.
CLI::App* AddSubcommand(CLI::App& parent, absl::string_view name,
                        absl::string_view summary) {
  CLI::App* sub =
      parent.add_subcommand(std::string(name), std::string(summary));
  sub->group(kCommandsGroup)->fallthrough()->allow_extras();
  sub->add_option(kPositionals)
      ->expected(-1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->group("");
  return sub;
}

std::vector<std::string> PositionalsOf(const CLI::App& app) {
  const CLI::Option* positionals = app.get_option_no_throw(kPositionals);
  if (positionals == nullptr) return {};
  return positionals->results();
}

// CLI11's message for `error`, in the CLI's words where they differ.
std::string ParseErrorMessage(const CLI::ParseError& error) {
  const absl::string_view message = error.what();
  // "--server: 1 required FQDN missing"
  if (absl::StrContains(message, " required ") &&
      absl::EndsWith(message, " missing")) {
    return absl::StrCat("option ", message.substr(0, message.find(':')),
                        " needs a value");
  }
  // "json was given a disallowed flag override"
  constexpr absl::string_view kOverride =
      " was given a disallowed flag override";
  if (absl::EndsWith(message, kOverride)) {
    return absl::StrCat("option --", absl::StripSuffix(message, kOverride),
                        " takes no value");
  }
  return std::string(message);
}

std::string UnknownOptionMessage(absl::string_view word) {
  absl::string_view name = word.substr(0, word.find('='));
  return absl::StrCat(
      "unknown option ", name,
      name.size() > 1 && name[1] != '-' ? " (options are --long-names)" : "");
}

}  // namespace

CommandLine::CommandLine(absl::string_view intro, absl::string_view notes,
                         absl::Span<const OptionSpec> global_options,
                         const std::vector<Command>& commands)
    : notes_(notes),
      formatter_(std::make_shared<CLI::Formatter>()),
      app_(std::make_unique<CLI::App>(std::string(intro), "dtrust")) {
  formatter_->column_width(kColumnWidth);
  app_->formatter(formatter_);
  app_->set_help_flag();
  app_->allow_extras()->require_subcommand(0, 1);
  DeclareOptions(global_options, *app_, kGlobalGroup);
  help_flag_ = app_->add_flag("-h,--help")->description("show help");
  help_flag_->group(kGlobalGroup)->disable_flag_override();
  for (const Command& command : commands) Declare(command);
  help_ = AddSubcommand(*app_, "help",
                        "show this help, or a command's: dtrust help COMMAND");
  help_->preparse_callback(
      [this](size_t) { extras_before_command_ = app_->remaining_size(); });
}

CommandLine::~CommandLine() = default;

void CommandLine::DeclareOptions(absl::Span<const OptionSpec> specs,
                                 CLI::App& app, absl::string_view group) {
  for (const OptionSpec& spec : specs) {
    const std::string name = absl::StrCat("--", spec.name);
    CLI::Option* option = nullptr;
    if (spec.takes_value()) {
      option = app.add_option(name)
                   ->type_name(std::string(spec.value_name))
                   ->expected(1)
                   ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    } else {
      option = app.add_flag(name)->disable_flag_override();
    }
    option->description(std::string(spec.description))
        ->group(std::string(group));
    specs_[option] = &spec;
  }
}

void CommandLine::Declare(const Command& command) {
  CLI::App* app = AddSubcommand(*app_, command.name, command.summary);
  app->require_subcommand(0, 1);
  DeclareOptions(command.options, *app, kOptionsGroup);
  for (const SubcommandSpec& sub : command.subcommands) {
    AddSubcommand(*app, sub.name, sub.summary);
  }
  app->preparse_callback([this, &command](size_t) {
    extras_before_command_ = app_->remaining_size();
    seen_command_ = &command;
  });
}

absl::StatusOr<ParsedCommandLine> CommandLine::Parse(
    absl::Span<const std::string> args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app_->parse(reversed);
  } catch (const CLI::ParseError& error) {
    return UsageError(seen_command_ == nullptr ? kGeneral : seen_command_->name,
                      ParseErrorMessage(error));
  }
  ParsedCommandLine parsed{.command = seen_command_,
                           .help = help_flag_->count() > 0};
  DTRUST_RETURN_IF_ERROR(CheckExtras(parsed.command));
  DTRUST_RETURN_IF_ERROR(Collect(*app_, parsed.args));
  if (help_->parsed()) {
    parsed.help_topics = PositionalsOf(*help_);
    return parsed;
  }
  if (parsed.command == nullptr) return parsed;
  CLI::App* app = app_->get_subcommand(std::string(parsed.command->name));
  DTRUST_RETURN_IF_ERROR(Collect(*app, parsed.args));
  for (CLI::App* sub : app->get_subcommands()) {
    parsed.subcommand = sub->get_name();
    DTRUST_RETURN_IF_ERROR(Collect(*sub, parsed.args));
  }
  return parsed;
}

absl::Status CommandLine::CheckExtras(const Command* command) const {
  const std::vector<std::string> extras = app_->remaining();
  if (extras.empty()) return absl::OkStatus();
  const std::string& extra = extras[0];
  const bool option = extra.size() > 1 && extra[0] == '-';
  if (command == nullptr || extras_before_command_ > 0) {
    if (!option) {
      return UsageError(kGeneral, absl::StrCat("unknown command ", extra));
    }
    return UsageError(kGeneral,
                      absl::StrCat(UnknownOptionMessage(extra),
                                   " before the command (command options go "
                                   "after it)"));
  }
  if (!option) {
    return UsageError(command->name,
                      absl::StrCat("unexpected argument ", extra));
  }
  return UsageError(command->name, UnknownOptionMessage(extra));
}

absl::Status CommandLine::Collect(const CLI::App& app, ParsedArgs& args) const {
  for (const CLI::Option* option : app.get_options()) {
    const auto spec = specs_.find(option);
    if (spec == specs_.end()) continue;  // --help, ARGS.
    const std::vector<std::string>& results = option->results();
    if (results.size() > 1 && !spec->second->repeatable) {
      return UsageError(
          seen_command_ == nullptr ? kGeneral : seen_command_->name,
          absl::StrCat("option --", spec->second->name,
                       " given more than once"));
    }
    for (const std::string& value : results) {
      args.AddValue(spec->second->name,
                    spec->second->takes_value() ? value : "");
    }
  }
  for (std::string& positional : PositionalsOf(app)) {
    args.AddPositional(std::move(positional));
  }
  return absl::OkStatus();
}

std::string CommandLine::GlobalHelp() const {
  return absl::StrCat(
      formatter_->make_groups(app_.get(), CLI::AppFormatMode::Normal), "\n",
      notes_);
}

std::string CommandLine::GeneralHelp() const {
  return absl::StrCat(
      app_->get_description(),
      formatter_->make_subcommands(app_.get(), CLI::AppFormatMode::Normal),
      GlobalHelp());
}

std::string CommandLine::CommandHelp(const Command& command) const {
  const CLI::App* app = app_->get_subcommand(std::string(command.name));
  return absl::StrCat(
      command.help,
      formatter_->make_subcommands(app, CLI::AppFormatMode::Normal),
      formatter_->make_groups(app, CLI::AppFormatMode::Normal), command.notes,
      GlobalHelp());
}

}  // namespace dtrust::cli
