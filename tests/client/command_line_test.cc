#include "client/command_line.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/format.h"
#include "client/input.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/hex.h"

namespace dtrust::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr OptionSpec kGlobal[] = {
    {.name = "endpoint", .value_name = "TARGET", .description = "where"},
    {.name = "json", .description = "as JSON"},
};

absl::StatusOr<ExitCode> NotRun(const Invocation&) {
  return absl::InternalError("not run by these tests");
}

std::vector<Command> TestCommands() {
  return {{.name = "publish",
           .summary = "publish it",
           .help = "usage: dtrust publish FILE\n",
           .options = {{.name = "server",
                        .value_name = "FQDN",
                        .description = "the server"},
                       {.name = "domain",
                        .value_name = "MAIL-DOMAIN",
                        .description = "a domain",
                        .repeatable = true}},
           .notes = "TIME is RFC 3339.\n",
           .run = NotRun},
          {.name = "domain",
           .summary = "domains",
           .help = "usage: dtrust domain add D\n",
           .options = {{.name = "send", .description = "send list"}},
           .subcommands = {{.name = "add", .summary = "adds it"}},
           .run = NotRun}};
}

class CommandLineTest : public ::testing::Test {
 protected:
  absl::StatusOr<ParsedCommandLine> Parse(
      const std::vector<std::string>& args) {
    return command_line_.Parse(args);
  }

  const std::vector<Command> commands_ = TestCommands();
  CommandLine command_line_{"usage: dtrust COMMAND\n", "Exit codes: ...\n",
                            kGlobal, commands_};
};

TEST_F(CommandLineTest, OptionsBeforeBetweenAndAfterPositionals) {
  absl::StatusOr<ParsedCommandLine> parsed =
      Parse({"--endpoint", "unix:x", "publish", "--server", "mx1", "a.pem",
             "--domain=d1", "--json", "b.pem", "--domain", "d2"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_NE(parsed->command, nullptr);
  EXPECT_EQ(parsed->command->name, "publish");
  EXPECT_FALSE(parsed->help);
  const ParsedArgs& args = parsed->args;
  EXPECT_THAT(args.positionals(), ElementsAre("a.pem", "b.pem"));
  EXPECT_EQ(args.Value("endpoint"), "unix:x");
  EXPECT_EQ(args.Value("server"), "mx1");
  EXPECT_THAT(args.Values("domain"), ElementsAre("d1", "d2"));
  EXPECT_TRUE(args.Has("json"));
  EXPECT_EQ(args.Value("json"), "");
  EXPECT_FALSE(args.Has("send"));
  EXPECT_EQ(args.Value("send"), std::nullopt);
  EXPECT_TRUE(args.Values("send").empty());
}

TEST_F(CommandLineTest, DashIsAPositional) {
  absl::StatusOr<ParsedCommandLine> parsed = Parse({"publish", "-"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(parsed->args.positionals(), ElementsAre("-"));
}

TEST_F(CommandLineTest, SubcommandAndItsArguments) {
  absl::StatusOr<ParsedCommandLine> parsed =
      Parse({"domain", "add", "org-b.example", "--send", "--json"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command->name, "domain");
  EXPECT_EQ(parsed->subcommand, "add");
  EXPECT_THAT(parsed->args.positionals(), ElementsAre("org-b.example"));
  EXPECT_TRUE(parsed->args.Has("send"));
  EXPECT_TRUE(parsed->args.Has("json"));
}

TEST_F(CommandLineTest, HelpFlagAndHelpCommand) {
  absl::StatusOr<ParsedCommandLine> parsed = Parse({"-h"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->help);
  EXPECT_EQ(parsed->command, nullptr);

  parsed = Parse({"publish", "--help", "x.pem"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->help);
  EXPECT_EQ(parsed->command->name, "publish");

  parsed = Parse({"help", "publish"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_TRUE(parsed->help_topics.has_value());
  EXPECT_THAT(*parsed->help_topics, ElementsAre("publish"));
}

TEST_F(CommandLineTest, HelpIsGeneratedFromTheDeclarations) {
  const std::string general = command_line_.GeneralHelp();
  EXPECT_THAT(general, HasSubstr("usage: dtrust COMMAND\n"));
  EXPECT_THAT(general, HasSubstr("  publish               publish it\n"));
  EXPECT_THAT(general, HasSubstr("  --endpoint TARGET     where\n"));
  EXPECT_THAT(general, HasSubstr("Exit codes: ...\n"));
  EXPECT_THAT(general, Not(HasSubstr("--server")));

  const std::string help = command_line_.CommandHelp(commands_[0]);
  EXPECT_THAT(help, HasSubstr("usage: dtrust publish FILE\n"));
  EXPECT_THAT(help, HasSubstr("  --server FQDN         the server\n"));
  EXPECT_THAT(help, HasSubstr("TIME is RFC 3339.\n"));
  EXPECT_THAT(help, HasSubstr("  --endpoint TARGET     where\n"));
  EXPECT_THAT(help, HasSubstr("Exit codes: ...\n"));

  EXPECT_THAT(command_line_.CommandHelp(commands_[1]),
              HasSubstr("  add                   adds it\n"));
}

TEST_F(CommandLineTest, RejectsMisuseNamingTheOption) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"publish", "--bogus"},
            "unknown option --bogus (see 'dtrust help publish')"},
           {{"publish", "--bogus=1"}, "unknown option --bogus"},
           {{"publish", "-x"}, "unknown option -x (options are --long-names)"},
           {{"publish", "--server"}, "option --server needs a value"},
           {{"publish", "--json=yes"}, "option --json takes no value"},
           {{"publish", "--server", "a", "--server=b"},
            "option --server given more than once"},
           {{"--json", "publish", "--json"},
            "option --json given more than once"},
           {{"--server", "x", "publish"},
            "unknown option --server before the command (command options "
            "go after it) (see 'dtrust help')"},
           {{"frobnicate"}, "unknown command frobnicate (see 'dtrust help')"},
       }) {
    absl::StatusOr<ParsedCommandLine> parsed = Parse(c.args);
    ASSERT_FALSE(parsed.ok()) << c.message;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.message));
  }
}

TEST(ParseTimeoutTest, AcceptsDurationsAndSeconds) {
  EXPECT_EQ(*ParseTimeout("10s"), absl::Seconds(10));
  EXPECT_EQ(*ParseTimeout("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseTimeout("1m"), absl::Minutes(1));
  EXPECT_EQ(*ParseTimeout("2.5"), absl::Milliseconds(2500));
  for (const char* bad : {"", "0", "0s", "-1s", "inf", "nan", "ten", "10 s"}) {
    EXPECT_EQ(ParseTimeout(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(FormatTest, DigestsAndTimes) {
  const std::string bytes("\x00\xab\x7f\xff", 4);
  EXPECT_EQ(LowerHex(bytes), "00ab7fff");
  EXPECT_EQ(ColonHex(bytes), "00:AB:7F:FF");
  google::protobuf::Timestamp time;
  time.set_seconds(1735689600);  // 2025-01-01T00:00:00Z
  EXPECT_EQ(Rfc3339(time), "2025-01-01T00:00:00Z");
  time.set_nanos(500000000);
  EXPECT_EQ(Rfc3339(time), "2025-01-01T00:00:00.5Z");
  EXPECT_EQ(OptionalRfc3339(false, time), std::nullopt);
  EXPECT_EQ(PinKindLabel(v1::PIN_KIND_CERTIFICATE), "certificate");
  EXPECT_EQ(PinKindLabel(v1::PIN_KIND_PUBLIC_KEY), "public-key");
  EXPECT_EQ(PinKindLabel(v1::PIN_KIND_UNSPECIFIED), std::nullopt);
}

}  // namespace
}  // namespace dtrust::cli
