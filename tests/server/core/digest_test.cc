#include "server/core/digest.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dtrust {
namespace {

using ::testing::HasSubstr;

// SHA-256("abc"), FIPS 180-2 test vector.
constexpr char kAbcHex[] =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(Sha256DigestTest, OfMatchesKnownVector) {
  EXPECT_EQ(Sha256Digest::Of("abc").ToHex(), kAbcHex);
}

TEST(Sha256DigestTest, ColonHexIsOpenSslForm) {
  EXPECT_EQ(Sha256Digest::Of("abc").ToColonHex().substr(0, 11), "BA:78:16:BF");
  EXPECT_EQ(Sha256Digest::Of("abc").ToColonHex().size(), 95u);
}

TEST(Sha256DigestTest, FromHexAcceptsBothCasesAndColons) {
  const Sha256Digest abc = Sha256Digest::Of("abc");
  EXPECT_EQ(*Sha256Digest::FromHex(kAbcHex, "x"), abc);
  EXPECT_EQ(*Sha256Digest::FromHex(abc.ToColonHex(), "x"), abc);
  EXPECT_EQ(*Sha256Digest::FromHex(" BA7816BF8F01CFEA414140DE5DAE2223B00361A3"
                                   "96177A9CB410FF61F20015AD\n",
                                   "x"),
            abc);
}

TEST(Sha256DigestTest, FromHexRejectsBadInputNamingIt) {
  auto short_hex = Sha256Digest::FromHex("abcd", "--sha256");
  EXPECT_THAT(short_hex.status().message(), HasSubstr("--sha256"));
  EXPECT_THAT(short_hex.status().message(), HasSubstr("64 hex digits"));
  std::string bad = kAbcHex;
  bad[10] = 'g';
  EXPECT_THAT(Sha256Digest::FromHex(bad, "x").status().message(),
              HasSubstr("position 11"));
  std::string misplaced = Sha256Digest::Of("abc").ToColonHex();
  misplaced[2] = '-';
  EXPECT_FALSE(Sha256Digest::FromHex(misplaced, "x").ok());
}

TEST(Sha256DigestTest, FromBytesNeedsExactly32) {
  const Sha256Digest abc = Sha256Digest::Of("abc");
  EXPECT_EQ(*Sha256Digest::FromBytes(abc.bytes(), "x"), abc);
  EXPECT_THAT(Sha256Digest::FromBytes("short", "sha256").status().message(),
              HasSubstr("sha256: a SHA-256 digest is 32 bytes, got 5"));
}

}  // namespace
}  // namespace dtrust
