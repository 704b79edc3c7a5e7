// The benchmark programs' figures and inputs: quantiles, spreads, JSON
// strings, and the digest list grpc_bench reads.
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/benchmark/bench_stats.h"
#include "tests/benchmark/verify_set.h"
#include "tests/testing/test_certs.h"

namespace dtrust::bench {
namespace {

using ::testing::HasSubstr;

TEST(QuantileTest, NearestRank) {
  std::vector<double> values;
  for (int i = 100; i >= 1; --i) values.push_back(i);
  EXPECT_EQ(Quantile(values, 0.5), 50);
  EXPECT_EQ(Quantile(values, 0.99), 99);
  EXPECT_EQ(Quantile(values, 0.999), 100);
  EXPECT_EQ(Quantile(values, 0), 1);
  EXPECT_EQ(Quantile(values, 1), 100);
}

TEST(QuantileTest, EmptyIsZero) {
  std::vector<double> none;
  EXPECT_EQ(Quantile(none, 0.5), 0);
}

TEST(SpreadTest, MedianAndRange) {
  const Spread odd = SpreadOf({5, 1, 3});
  EXPECT_EQ(odd.median, 3);
  EXPECT_EQ(odd.min, 1);
  EXPECT_EQ(odd.max, 5);
  EXPECT_EQ(SpreadOf({4, 1, 2, 10}).median, 3);
  EXPECT_EQ(FormatSpread(odd, 1), "3.0 (1.0–5.0)");
  EXPECT_EQ(SpreadJson(odd), R"({"median":3,"min":1,"max":5})");
}

TEST(JsonStringTest, Escapes) {
  EXPECT_EQ(JsonString("a\"b\\c\n"), R"("a\"b\\c\u000a")");
}

TEST(VerifySetTest, ReadsDigestsAndDomains) {
  const std::string hex(64, 'a');
  const std::string path = testing::WriteTempFile(
      "digests", hex + " org-1.example\n\n" + std::string(64, 'B') + "\n");
  absl::StatusOr<VerifySet> set = VerifySet::Load(path);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->published_size(), 2u);
  EXPECT_EQ(set->Published(0).domain, "org-1.example");
  EXPECT_EQ(static_cast<unsigned char>(set->Published(0).sha256[0]), 0xaa);
  EXPECT_EQ(set->Published(1).domain, "");
  EXPECT_EQ(static_cast<unsigned char>(set->Published(1).sha256[31]), 0xbb);
  EXPECT_NE(set->Unpublished(0), set->Unpublished(1));
}

TEST(VerifySetTest, RejectsMalformedLines) {
  const std::string path = testing::WriteTempFile(
      "digests", std::string(64, 'a') + "\nabc org.example\n");
  absl::StatusOr<VerifySet> set = VerifySet::Load(path);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(set.status().message(), HasSubstr(path + ":2:"));
}

TEST(VerifySetTest, EmptyOrMissingFileIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(
      VerifySet::Load(testing::WriteTempFile("e", "\n")).status()));
  EXPECT_TRUE(absl::IsNotFound(VerifySet::Load("/nonexistent/x").status()));
}

}  // namespace
}  // namespace dtrust::bench
