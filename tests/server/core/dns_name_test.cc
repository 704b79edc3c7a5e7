#include "server/core/dns_name.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dtrust {
namespace {

using ::testing::HasSubstr;

TEST(NormalizeDnsNameTest, LowerCasesAndDropsTrailingDot) {
  EXPECT_EQ(*NormalizeDnsName("MX1.Org-B.Example.", "server name"),
            "mx1.org-b.example");
  EXPECT_EQ(*NormalizeDnsName("xn--bcher-kva.example", "d"),
            "xn--bcher-kva.example");
  EXPECT_EQ(*NormalizeDnsName("localhost", "d"), "localhost");
}

TEST(NormalizeDnsNameTest, RejectsLdapSpecialCharactersNamingThem) {
  for (const char* name : {"mx1*.example", "mx(1).example", "a,b.example",
                           "cn=x.example", "a\\b.example", "a b.example",
                           "a+b.example", "a\"b.example", "a#b", "a;b"}) {
    auto result = NormalizeDnsName(name, "server name");
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_THAT(result.status().message(), HasSubstr("server name")) << name;
    EXPECT_THAT(result.status().message(), HasSubstr("not allowed")) << name;
  }
  EXPECT_THAT(NormalizeDnsName("*.example", "d").status().message(),
              HasSubstr("wildcards"));
  EXPECT_THAT(NormalizeDnsName("a\nb", "d").status().message(),
              HasSubstr("byte 0x0a"));
}

TEST(NormalizeDnsNameTest, RejectsBadShapes) {
  EXPECT_THAT(NormalizeDnsName("", "d").status().message(), HasSubstr("empty"));
  EXPECT_THAT(NormalizeDnsName("a..b", "d").status().message(),
              HasSubstr("empty label"));
  EXPECT_THAT(NormalizeDnsName("-a.b", "d").status().message(),
              HasSubstr("start or end with '-'"));
  EXPECT_THAT(NormalizeDnsName("a-.b", "d").status().message(),
              HasSubstr("start or end with '-'"));
  EXPECT_THAT(NormalizeDnsName("b\xc3\xbc"
                               "cher.example",
                               "d")
                  .status()
                  .message(),
              HasSubstr("A-labels"));
  const std::string label63(63, 'a');
  EXPECT_TRUE(NormalizeDnsName(label63 + ".example", "d").ok());
  EXPECT_THAT(NormalizeDnsName(label63 + "a.example", "d").status().message(),
              HasSubstr("at most 63"));
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  EXPECT_THAT(NormalizeDnsName(long_name + "abcd", "d").status().message(),
              HasSubstr("at most 253"));
}

}  // namespace
}  // namespace dtrust
