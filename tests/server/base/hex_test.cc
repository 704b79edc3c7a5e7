#include "server/base/hex.h"

#include <string>

#include "gtest/gtest.h"

namespace dtrust {
namespace {

const std::string kBytes("\x00\xab\x7f\xff", 4);

TEST(HexTest, LowerHexIsTwoLowerCaseDigitsPerByte) {
  EXPECT_EQ(LowerHex(kBytes), "00ab7fff");
  EXPECT_EQ(LowerHex(""), "");
}

TEST(HexTest, ColonHexIsUpperCaseWithColonsBetweenBytes) {
  EXPECT_EQ(ColonHex(kBytes), "00:AB:7F:FF");
  EXPECT_EQ(ColonHex("\x01"), "01");
  EXPECT_EQ(ColonHex(""), "");
}

TEST(HexTest, DigitValuesInEitherCase) {
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('9'), 9);
  EXPECT_EQ(HexDigitValue('a'), 10);
  EXPECT_EQ(HexDigitValue('F'), 15);
  for (char c : {'g', 'G', ':', ' ', '/', '@', '`', '\0'}) {
    EXPECT_EQ(HexDigitValue(c), -1) << static_cast<int>(c);
  }
}

TEST(HexTest, DigitValuesReadBackWhatLowerHexWrote) {
  std::string all;
  for (int byte = 0; byte < 256; ++byte) all.push_back(static_cast<char>(byte));
  const std::string hex = LowerHex(all);
  for (int byte = 0; byte < 256; ++byte) {
    EXPECT_EQ(
        HexDigitValue(hex[2 * byte]) * 16 + HexDigitValue(hex[2 * byte + 1]),
        byte);
  }
}

}  // namespace
}  // namespace dtrust
