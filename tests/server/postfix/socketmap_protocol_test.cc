#include "server/postfix/socketmap_protocol.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dtrust {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = TlsPolicyAnswer::Kind;

absl::StatusOr<std::vector<std::string>> ReadAll(absl::string_view stream) {
  NetstringReader reader;
  std::vector<std::string> payloads;
  absl::Status status = reader.Consume(stream, &payloads);
  if (!status.ok()) return status;
  return payloads;
}

std::string Error(absl::string_view stream) {
  absl::StatusOr<std::vector<std::string>> read = ReadAll(stream);
  EXPECT_FALSE(read.ok()) << "accepted: " << stream.substr(0, 100);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(read.status().message());
}

TEST(NetstringReaderTest, ReadsPipelinedNetstrings) {
  auto payloads =
      ReadAll("24:tls_policy org-b.example,0:,19:tls_policy .example,");
  ASSERT_TRUE(payloads.ok()) << payloads.status();
  EXPECT_THAT(*payloads, ElementsAre("tls_policy org-b.example", "",
                                     "tls_policy .example"));
}

TEST(NetstringReaderTest, DataIsBinaryTransparent) {
  const std::string data("a,b:c\0\n9:", 9);
  auto payloads = ReadAll(FormatNetstring(data));
  ASSERT_TRUE(payloads.ok()) << payloads.status();
  EXPECT_THAT(*payloads, ElementsAre(data));
}

TEST(NetstringReaderTest, SameResultWhereverTheStreamIsSplit) {
  const std::string stream = FormatNetstring("tls_policy org-b.example") +
                             FormatNetstring("") +
                             FormatNetstring(std::string(1234, 'k'));
  auto whole = ReadAll(stream);
  ASSERT_TRUE(whole.ok());
  ASSERT_EQ(whole->size(), 3u);
  for (size_t split = 0; split <= stream.size(); ++split) {
    NetstringReader reader;
    std::vector<std::string> payloads;
    ASSERT_TRUE(reader.Consume(stream.substr(0, split), &payloads).ok());
    ASSERT_TRUE(reader.Consume(stream.substr(split), &payloads).ok());
    EXPECT_EQ(payloads, *whole) << "split at " << split;
    EXPECT_FALSE(reader.mid_netstring());
  }
  NetstringReader reader;
  std::vector<std::string> payloads;
  for (char c : stream) {
    ASSERT_TRUE(reader.Consume(std::string(1, c), &payloads).ok());
  }
  EXPECT_EQ(payloads, *whole);
}

TEST(NetstringReaderTest, MidNetstring) {
  NetstringReader reader;
  std::vector<std::string> payloads;
  EXPECT_FALSE(reader.mid_netstring());
  for (absl::string_view part : {"1", "2", ":", "hello world!"}) {
    ASSERT_TRUE(reader.Consume(part, &payloads).ok());
    EXPECT_TRUE(reader.mid_netstring()) << part;
  }
  ASSERT_TRUE(reader.Consume(",", &payloads).ok());
  EXPECT_FALSE(reader.mid_netstring());
  EXPECT_THAT(payloads, ElementsAre("hello world!"));
}

TEST(NetstringReaderTest, BadNetstringsAreRefusedSayingWhat) {
  EXPECT_THAT(Error("x:abc,"), HasSubstr("'x' where a length digit"));
  EXPECT_THAT(Error("3x:abc,"), HasSubstr("'x' where a length digit"));
  EXPECT_THAT(Error(" 3:abc,"), HasSubstr("where a length digit"));
  EXPECT_THAT(Error("-3:abc,"), HasSubstr("where a length digit"));
  EXPECT_THAT(Error(":abc,"), HasSubstr("empty length"));
  EXPECT_THAT(Error("03:abc,"), HasSubstr("leading zero"));
  EXPECT_THAT(Error("3:abc;"), HasSubstr("no ',' after 3 bytes"));
  EXPECT_THAT(Error("3:abcd,"), HasSubstr("no ',' after 3 bytes"));
  EXPECT_THAT(Error("2:abc,"), HasSubstr("no ',' after 2 bytes"));
  EXPECT_THAT(Error(std::string("\0\0\0", 3)), HasSubstr("where a length"));
}

TEST(NetstringReaderTest, LengthLimitIsExactAndCheckedBeforeTheData) {
  const std::string largest(kMaxNetstringBytes, 'k');
  auto payloads = ReadAll(FormatNetstring(largest));
  ASSERT_TRUE(payloads.ok()) << payloads.status();
  EXPECT_THAT(*payloads, ElementsAre(largest));
  // Refused at the ':' (or the 7th digit), before any data arrives.
  EXPECT_THAT(Error("100001:"), HasSubstr("length 100001 exceeds 100000"));
  EXPECT_THAT(Error("9999999"), HasSubstr("length exceeds 100000"));
  EXPECT_THAT(Error("99999999999999999999999999:"),
              HasSubstr("length exceeds 100000"));
}

TEST(SocketmapRequestTest, SplitsNameAndKeyAtTheFirstSpace) {
  absl::StatusOr<SocketmapRequest> request =
      ParseSocketmapRequest("tls_policy [mx.org-b.example]:25");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->name, "tls_policy");
  EXPECT_EQ(request->key, "[mx.org-b.example]:25");
  request = ParseSocketmapRequest("m a key with spaces");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->name, "m");
  EXPECT_EQ(request->key, "a key with spaces");
  request = ParseSocketmapRequest("m ");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->key, "");
}

TEST(SocketmapRequestTest, RefusesRequestsWithoutNameAndKey) {
  EXPECT_THAT(ParseSocketmapRequest("nospace").status().message(),
              HasSubstr("\"nospace\" is not \"NAME KEY\""));
  EXPECT_FALSE(ParseSocketmapRequest(" key").ok());
  EXPECT_FALSE(ParseSocketmapRequest("").ok());
}

TlsPolicyAnswer Answer(Kind kind, std::string policy = "",
                       std::string reason = "") {
  TlsPolicyAnswer answer;
  answer.kind = kind;
  answer.policy = std::move(policy);
  answer.reason = std::move(reason);
  return answer;
}

TEST(SocketmapAnswerTest, FormatsEachKind) {
  EXPECT_EQ(
      *FormatSocketmapAnswer(Answer(Kind::kFound, "fingerprint match=AB")),
      "OK fingerprint match=AB");
  EXPECT_EQ(*FormatSocketmapAnswer(Answer(Kind::kNotFound)), "NOTFOUND ");
  EXPECT_EQ(*FormatSocketmapAnswer(
                Answer(Kind::kTempFail, "", "dtrust: directory unavailable")),
            "TEMP dtrust: directory unavailable");
  EXPECT_EQ(SocketmapPerm("unknown map x"), "PERM unknown map x");
  EXPECT_EQ(SocketmapTemp("later"), "TEMP later");
  EXPECT_EQ(FormatNetstring("NOTFOUND "), "9:NOTFOUND ,");
}

TEST(SocketmapAnswerTest, RepliesStayWithinPostfixsLimit) {
  // "OK " + policy at exactly the limit passes; one byte more does not.
  const std::string fits(kMaxNetstringBytes - 3, 'p');
  EXPECT_EQ(FormatSocketmapAnswer(Answer(Kind::kFound, fits))->size(),
            kMaxNetstringBytes);
  absl::StatusOr<std::string> too_long =
      FormatSocketmapAnswer(Answer(Kind::kFound, fits + "p"));
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(too_long.status().message(), HasSubstr("100001 bytes"));
  // Reasons are cut, never over the limit.
  EXPECT_LT(SocketmapTemp(std::string(2 * kMaxNetstringBytes, 'r')).size(),
            kMaxNetstringBytes);
  EXPECT_LT(FormatSocketmapAnswer(Answer(Kind::kTempFail, "",
                                         std::string(kMaxNetstringBytes, 'r')))
                ->size(),
            kMaxNetstringBytes);
}

}  // namespace
}  // namespace dtrust
