#include "client/args.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/format.h"
#include "client/input.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dtrust::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr OptionSpec kSpecs[] = {
    {.name = "server", .takes_value = true},
    {.name = "domain", .takes_value = true, .repeatable = true},
    {.name = "json"},
    {.name = "help"},
};

absl::StatusOr<ParsedArgs> Parse(std::vector<std::string> args) {
  return ParseArgs(args, kSpecs);
}

TEST(ParseArgsTest, OptionsBeforeBetweenAndAfterPositionals) {
  absl::StatusOr<ParsedArgs> args =
      Parse({"--server", "mx1", "a.pem", "--domain=d1", "--json", "b.pem",
             "--domain", "d2"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->positionals(), ElementsAre("a.pem", "b.pem"));
  EXPECT_EQ(args->Value("server"), "mx1");
  EXPECT_THAT(args->Values("domain"), ElementsAre("d1", "d2"));
  EXPECT_TRUE(args->Has("json"));
  EXPECT_FALSE(args->Has("help"));
  EXPECT_EQ(args->Value("help"), std::nullopt);
  EXPECT_TRUE(args->Values("help").empty());
}

TEST(ParseArgsTest, DoubleDashEndsOptionsAndDashIsPositional) {
  absl::StatusOr<ParsedArgs> args = Parse({"-", "--", "--json", "-h"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->positionals(), ElementsAre("-", "--json", "-h"));
  EXPECT_FALSE(args->Has("json"));
}

TEST(ParseArgsTest, ShortHIsHelp) {
  absl::StatusOr<ParsedArgs> args = Parse({"-h"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->Has("help"));
}

TEST(ParseArgsTest, ValueMayLookLikeAnOption) {
  absl::StatusOr<ParsedArgs> args = Parse({"--server", "--json"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Value("server"), "--json");
  EXPECT_FALSE(args->Has("json"));
}

TEST(ParseArgsTest, RejectsMisuseNamingTheOption) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"--bogus"}, "unknown option --bogus"},
           {{"--bogus=1"}, "unknown option --bogus"},
           {{"-x"}, "unknown option -x"},
           {{"--server"}, "--server needs a value"},
           {{"--json=yes"}, "--json takes no value"},
           {{"--server", "a", "--server=b"}, "--server given more than once"},
       }) {
    absl::StatusOr<ParsedArgs> args = Parse(c.args);
    ASSERT_FALSE(args.ok()) << c.message;
    EXPECT_EQ(args.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(args.status().message(), HasSubstr(c.message));
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
