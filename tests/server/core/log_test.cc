#include "server/core/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/json_value.h"

namespace dtrust {
namespace {

using ::testing::MatchesRegex;

constexpr char kForged[] =
    "verify of mx1.org-b.example\n"
    "FAKE 2026-01-31T12:00:00.000Z INFO Publish by root";

// `code_point` in UTF-8, whatever it is (surrogates too), written here
// independently of the code under test.
std::string EncodeUtf8(uint32_t code_point) {
  std::string out;
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  }
  return out;
}

// Whether `text` holds a byte that a terminal or a line-based reader could
// take for a line break or a control sequence.
bool HasControlBytes(absl::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) return true;
    if (byte == 0xc2 && i + 1 < text.size() &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      return true;  // C1 control.
    }
  }
  return absl::StrContains(text, "\xe2\x80\xa8") ||
         absl::StrContains(text, "\xe2\x80\xa9");
}

TEST(LogTest, AForgedLineStaysOnTheLineOfItsMessage) {
  const std::string line =
      FormatLogLine(LogStyle{}, LogLevel::kWarning,
                    absl::FromUnixSeconds(1'800'000'000), kForged);
  EXPECT_EQ(line,
            "2027-01-15T08:00:00.000Z WARNING verify of mx1.org-b.example"
            "\\nFAKE 2026-01-31T12:00:00.000Z INFO Publish by root\n");
}

TEST(LogTest, LogWritesOneLineToStderr) {
  ::testing::internal::CaptureStderr();
  LogWarning("policy: ", kForged, "\r\n");
  const std::string written = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(written,
              MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z WARNING "
                           "policy: verify of mx1.org-b.example\\\\nFAKE "
                           "[^\n]* Publish by root\\\\r\\\\n\n"));
  EXPECT_EQ(written.find('\n'), written.size() - 1) << written;
}

TEST(LogTest, JsonLineHoldsTimeLevelAndTheEscapedMessage) {
  const std::string line =
      FormatLogLine({.format = LogFormat::kJson}, LogLevel::kWarning,
                    absl::FromUnixSeconds(1'800'000'000), kForged);
  ASSERT_EQ(line.find('\n'), line.size() - 1) << line;
  const google::protobuf::Value parsed = testing::ParseJson(line);
  EXPECT_EQ(testing::Field(parsed, "time").string_value(),
            "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(testing::Field(parsed, "level").string_value(), "warning");
  // The message as the text format writes it: one line, whatever it holds.
  EXPECT_EQ(testing::Field(parsed, "msg").string_value(),
            EscapeLogText(kForged));
  EXPECT_EQ(parsed.struct_value().fields_size(), 3) << line;
}

TEST(LogTest, JournalLinesStartWithTheSyslogPriorityAndHaveNoTime) {
  const absl::Time time = absl::FromUnixSeconds(1'800'000'000);
  const LogStyle journal_text{.journal = true};
  EXPECT_EQ(FormatLogLine(journal_text, LogLevel::kDebug, time, "d"),
            "<7>DEBUG d\n");
  EXPECT_EQ(FormatLogLine(journal_text, LogLevel::kInfo, time, "i"),
            "<6>INFO i\n");
  EXPECT_EQ(FormatLogLine(journal_text, LogLevel::kWarning, time, "w"),
            "<4>WARNING w\n");
  EXPECT_EQ(FormatLogLine(journal_text, LogLevel::kError, time, "e"),
            "<3>ERROR e\n");
  EXPECT_EQ(FormatLogLine({.format = LogFormat::kJson, .journal = true},
                          LogLevel::kError, time, "a \"b\""),
            "<3>{\"level\":\"error\",\"msg\":\"a \\\"b\\\"\"}\n");
}

TEST(LogTest, LogWritesTheStyleItWasGiven) {
  SetLogStyle({.format = LogFormat::kJson});
  ::testing::internal::CaptureStderr();
  LogInfo("policy: ", kForged);
  const std::string written = ::testing::internal::GetCapturedStderr();
  SetLogStyle({});
  EXPECT_EQ(testing::Field(testing::ParseJson(written), "msg").string_value(),
            EscapeLogText(absl::StrCat("policy: ", kForged)));
}

// Sets $JOURNAL_STREAM for one test; restores the old value.
class JournalStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* old = std::getenv("JOURNAL_STREAM")) saved_ = old;
  }
  void TearDown() override {
    if (saved_.has_value()) {
      setenv("JOURNAL_STREAM", saved_->c_str(), 1);
    } else {
      unsetenv("JOURNAL_STREAM");
    }
  }
  std::optional<std::string> saved_;
};

TEST_F(JournalStreamTest, MatchesOnlyTheFileStderrIsOpenOn) {
  struct stat status {};
  ASSERT_EQ(fstat(STDERR_FILENO, &status), 0);
  unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(StderrIsJournal());
  setenv("JOURNAL_STREAM",
         absl::StrCat(status.st_dev, ":", status.st_ino).c_str(), 1);
  EXPECT_TRUE(StderrIsJournal());
  setenv("JOURNAL_STREAM",
         absl::StrCat(status.st_dev, ":", status.st_ino + 1).c_str(), 1);
  EXPECT_FALSE(StderrIsJournal());  // Inherited, but stderr is elsewhere.
  setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(StderrIsJournal());
}

TEST(LogTest, EscapesAsciiControlsAndDel) {
  EXPECT_EQ(EscapeLogText("a\tb\nc\rd"), "a\\tb\\nc\\rd");
  EXPECT_EQ(EscapeLogText("\x1b[2J\x1b]0;title\x07"),
            "\\x1b[2J\\x1b]0;title\\x07");
  EXPECT_EQ(EscapeLogText(absl::string_view("nul\0end", 7)), "nul\\x00end");
  EXPECT_EQ(EscapeLogText("del\x7f\x08\x1f"), "del\\x7f\\x08\\x1f");
}

TEST(LogTest, EscapesC1ControlsAndLineSeparatorsAsCodePoints) {
  EXPECT_EQ(EscapeLogText("next\xc2\x85line"), "next\\u0085line");  // NEL.
  EXPECT_EQ(EscapeLogText("csi\xc2\x9b[2J"), "csi\\u009b[2J");
  EXPECT_EQ(EscapeLogText("a\xe2\x80\xa8-\xe2\x80\xa9"), "a\\u2028-\\u2029");
}

TEST(LogTest, EscapesEachByteThatIsNotWellFormedUtf8) {
  EXPECT_EQ(EscapeLogText("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(EscapeLogText("\x80x"), "\\x80x");                  // Stray.
  EXPECT_EQ(EscapeLogText("\xc0\xaf"), "\\xc0\\xaf");           // Overlong '/'.
  EXPECT_EQ(EscapeLogText("\xe0\x80\x8a"), "\\xe0\\x80\\x8a");  // Overlong LF.
  EXPECT_EQ(EscapeLogText("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // Surrogate.
  EXPECT_EQ(EscapeLogText("\xf4\x90\x80\x80"),
            "\\xf4\\x90\\x80\\x80");                         // Above U+10FFFF.
  EXPECT_EQ(EscapeLogText("end\xe2\x82"), "end\\xe2\\x82");  // Truncated.
  EXPECT_EQ(EscapeLogText("\xe2\x82\n"), "\\xe2\\x82\\n");   // Cut by a LF.
}

TEST(LogTest, LeavesPrintableTextAndBackslashesAlone) {
  for (const char* text : {"", "plain ASCII ~!@#$%^&*()", "gr\xc3\xbc\xc3\x9f!",
                           "\xe2\x98\x83 \xf0\x9f\x98\x80 \xef\xbf\xbd",
                           "cn=a\\,b \\\"quoted\\\" \\x41", "\xc2\xa0nbsp"}) {
    EXPECT_EQ(EscapeLogText(text), text);
  }
}

TEST(LogTest, EveryCodePointPassesUnlessItIsEscaped) {
  for (uint32_t code_point = 0; code_point <= 0x10ffff; ++code_point) {
    const std::string encoded = EncodeUtf8(code_point);
    const std::string escaped = EscapeLogText(encoded);
    const bool surrogate = code_point >= 0xd800 && code_point <= 0xdfff;
    const bool control = code_point < 0x20 ||
                         (code_point >= 0x7f && code_point <= 0x9f) ||
                         code_point == 0x2028 || code_point == 0x2029;
    if (surrogate || control) {
      EXPECT_NE(escaped, encoded) << std::hex << code_point;
      EXPECT_EQ(escaped.front(), '\\') << std::hex << code_point;
    } else {
      ASSERT_EQ(escaped, encoded) << std::hex << code_point;
    }
    ASSERT_FALSE(HasControlBytes(escaped)) << std::hex << code_point;
  }
}

TEST(LogTest, RandomBytesNeverLeaveAControlByte) {
  std::mt19937 random(20260131);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 20000; ++round) {
    std::string text(1 + round % 16, '\0');
    for (char& c : text) c = static_cast<char>(byte(random));
    const std::string escaped = EscapeLogText(text);
    ASSERT_FALSE(HasControlBytes(escaped)) << absl::CHexEscape(text);
    // Escaping is idempotent on its own output: the output is printable,
    // well-formed UTF-8 already.
    ASSERT_EQ(EscapeLogText(escaped), escaped) << absl::CHexEscape(text);
  }
}

}  // namespace
}  // namespace dtrust
