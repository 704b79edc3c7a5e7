#include "server/base/time_format.h"

#include <optional>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace dtrust {
namespace {

absl::Time Utc(int year, int month, int day, int hour = 0, int minute = 0,
               int second = 0) {
  return absl::FromCivil(
      absl::CivilSecond(year, month, day, hour, minute, second),
      absl::UTCTimeZone());
}

const absl::Time kWhole = Utc(2026, 12, 4, 5, 6, 7);
const absl::Time kQuarter = kWhole + absl::Milliseconds(250);

TEST(FormatRfc3339Test, FractionOnlyWhenThereIsOne) {
  EXPECT_EQ(FormatRfc3339(kWhole), "2026-12-04T05:06:07Z");
  EXPECT_EQ(FormatRfc3339(kQuarter), "2026-12-04T05:06:07.25Z");
}

TEST(FormatRfc3339Test, SecondsCutTheFractionOff) {
  EXPECT_EQ(FormatRfc3339Seconds(kWhole), "2026-12-04T05:06:07Z");
  EXPECT_EQ(FormatRfc3339Seconds(kQuarter), "2026-12-04T05:06:07Z");
}

TEST(FormatRfc3339Test, MillisAlwaysHaveThreeDigits) {
  EXPECT_EQ(FormatRfc3339Millis(kWhole), "2026-12-04T05:06:07.000Z");
  EXPECT_EQ(FormatRfc3339Millis(kQuarter), "2026-12-04T05:06:07.250Z");
  EXPECT_EQ(FormatRfc3339Millis(kQuarter + absl::Microseconds(999)),
            "2026-12-04T05:06:07.250Z");
}

TEST(ParseRfc3339OrDateTest, ReadsWhatTheFormattersWrite) {
  EXPECT_EQ(ParseRfc3339OrDate(FormatRfc3339(kQuarter)), kQuarter);
  EXPECT_EQ(ParseRfc3339OrDate(FormatRfc3339Seconds(kWhole)), kWhole);
  EXPECT_EQ(ParseRfc3339OrDate(FormatRfc3339Millis(kQuarter)), kQuarter);
}

TEST(ParseRfc3339OrDateTest, AcceptsOffsetsAndDates) {
  EXPECT_EQ(ParseRfc3339OrDate("2026-12-04T06:06:07+01:00"), kWhole);
  EXPECT_EQ(ParseRfc3339OrDate("2026-12-04"), Utc(2026, 12, 4));
}

TEST(ParseRfc3339OrDateTest, RefusesOtherText) {
  for (const char* text :
       {"", "tomorrow", "2026-12-04T05:06:07", "2026-13-01", "04.12.2026",
        "2026-12-04 05:06:07Z", "2026-12-04T05:06:07Z trailing"}) {
    EXPECT_EQ(ParseRfc3339OrDate(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace dtrust
