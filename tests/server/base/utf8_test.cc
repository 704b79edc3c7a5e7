#include "server/base/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace dtrust {
namespace {

TEST(Utf8SequenceLengthTest, MeasuresTheFirstCharacterOnly) {
  EXPECT_EQ(Utf8SequenceLength("a\xff"), 1u);
  EXPECT_EQ(Utf8SequenceLength(absl::string_view("\0x", 2)), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xc3\xbc."), 2u);         // U+00FC.
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82\xac\xff"), 3u);  // U+20AC.
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x98\x80"), 4u);  // U+1F600.
  EXPECT_EQ(Utf8SequenceLength("\xf4\x8f\xbf\xbf"), 4u);  // U+10FFFF.
  EXPECT_EQ(Utf8SequenceLength("\xed\x9f\xbf"), 3u);      // U+D7FF.
}

TEST(Utf8SequenceLengthTest, RefusesWhatIsNotWellFormed) {
  for (const char* bad : {"\x80", "\xbf", "\xc0\x80", "\xc1\xbf",  // Overlong.
                          "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf",      // Overlong.
                          "\xed\xa0\x80", "\xed\xbf\xbf",  // Surrogates.
                          "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",  // Too high.
                          "\xff", "\xc3", "\xe2\x82", "\xc3x",     // Cut short.
                          ""}) {
    EXPECT_EQ(Utf8SequenceLength(bad), 0u) << absl::string_view(bad).size();
  }
}

}  // namespace
}  // namespace dtrust
