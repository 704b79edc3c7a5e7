#include "server/postfix/policy_protocol.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dtrust {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using Action = InboundDecision::Action;

constexpr char kSha256Colon[] =
    "3B:5C:6F:7E:22:91:1A:0B:CC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:"
    "9A:BC:DE:F0:12:34:56:78:9A";
constexpr char kSpkiColon[] =
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:"
    "11:22:33:44:55:66:77:88:99";
constexpr char kMd5Colon[] = "D4:1D:8C:D9:8F:00:B2:04:E9:80:09:98:EC:F8:42:7E";

// A request as Postfix 3.7 sends it at RCPT after STARTTLS (abridged).
std::string RcptRequest(absl::string_view instance = "1f2e.6553a1b2.7c0d.0") {
  return absl::StrCat(
      "request=smtpd_access_policy\n"
      "protocol_state=RCPT\n"
      "protocol_name=ESMTP\n"
      "client_address=192.0.2.10\n"
      "client_name=mx1.org-b.example\n"
      "helo_name=mx1.org-b.example\n"
      "sender=alice@org-b.example\n"
      "recipient=bob@org-a.example\n"
      "instance=",
      instance,
      "\n"
      "ccert_subject=\n"
      "ccert_issuer=\n"
      "ccert_fingerprint=",
      kSha256Colon,
      "\n"
      "ccert_pubkey_fingerprint=",
      kSpkiColon,
      "\n"
      "encryption_protocol=TLSv1.3\n"
      "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
      "encryption_keysize=256\n"
      "some_future_attribute=whatever\n"
      "\n");
}

absl::StatusOr<std::vector<PolicyAttributes>> ReadAll(
    absl::string_view stream) {
  PolicyRequestReader reader;
  std::vector<PolicyAttributes> requests;
  absl::Status status = reader.Consume(stream, &requests);
  if (!status.ok()) return status;
  return requests;
}

std::string Error(absl::string_view stream) {
  absl::StatusOr<std::vector<PolicyAttributes>> read = ReadAll(stream);
  EXPECT_FALSE(read.ok()) << "accepted: " << stream.substr(0, 200);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(read.status().message());
}

TEST(PolicyRequestReaderTest, ReadsOneRequest) {
  auto requests = ReadAll("request=smtpd_access_policy\nsender=a@b.c\n\n");
  ASSERT_TRUE(requests.ok()) << requests.status();
  ASSERT_EQ(requests->size(), 1u);
  EXPECT_THAT((*requests)[0],
              UnorderedElementsAre(Pair("request", "smtpd_access_policy"),
                                   Pair("sender", "a@b.c")));
}

TEST(PolicyRequestReaderTest, ValuesMayBeEmptyOrHoldEqualsSignsAndUtf8) {
  auto requests =
      ReadAll("sender=\nccert_subject=CN=x=y\thz\nhelo_name=m\xC3\xBC\n\n");
  ASSERT_TRUE(requests.ok()) << requests.status();
  EXPECT_THAT((*requests)[0],
              UnorderedElementsAre(Pair("sender", ""),
                                   Pair("ccert_subject", "CN=x=y\thz"),
                                   Pair("helo_name", "m\xC3\xBC")));
}

TEST(PolicyRequestReaderTest, PipelinedRequestsComeOutInOrder) {
  const std::string stream =
      RcptRequest("one") + RcptRequest("two") + RcptRequest("three");
  auto requests = ReadAll(stream);
  ASSERT_TRUE(requests.ok()) << requests.status();
  ASSERT_EQ(requests->size(), 3u);
  EXPECT_EQ((*requests)[0].at("instance"), "one");
  EXPECT_EQ((*requests)[1].at("instance"), "two");
  EXPECT_EQ((*requests)[2].at("instance"), "three");
}

TEST(PolicyRequestReaderTest, SameResultWhereverTheStreamIsSplit) {
  const std::string stream = RcptRequest("one") + RcptRequest("two");
  auto whole = ReadAll(stream);
  ASSERT_TRUE(whole.ok());
  for (size_t split = 0; split <= stream.size(); ++split) {
    PolicyRequestReader reader;
    std::vector<PolicyAttributes> requests;
    ASSERT_TRUE(reader.Consume(stream.substr(0, split), &requests).ok());
    EXPECT_EQ(requests.size(), split / RcptRequest("one").size()) << split;
    EXPECT_EQ(reader.mid_request(), split % RcptRequest("one").size() != 0)
        << split;
    ASSERT_TRUE(reader.Consume(stream.substr(split), &requests).ok());
    EXPECT_EQ(requests, *whole) << "split at " << split;
    EXPECT_FALSE(reader.mid_request());
  }
}

TEST(PolicyRequestReaderTest, ByteByByte) {
  const std::string stream = RcptRequest() + RcptRequest();
  PolicyRequestReader reader;
  std::vector<PolicyAttributes> requests;
  for (char c : stream) {
    ASSERT_TRUE(reader.Consume(std::string(1, c), &requests).ok());
  }
  EXPECT_EQ(requests, *ReadAll(stream));
}

TEST(PolicyRequestReaderTest, MalformedInputIsRefusedSayingWhat) {
  EXPECT_THAT(Error("request=smtpd_access_policy\nno equals sign\n\n"),
              HasSubstr("a line has no '=' (\"no equals sign\")"));
  EXPECT_THAT(Error("=value\n\n"), HasSubstr("empty name"));
  EXPECT_THAT(Error("\n"), HasSubstr("an empty request"));
  EXPECT_THAT(Error("a=1\n\n\n"), HasSubstr("an empty request"));
  EXPECT_THAT(Error("sender=a\nsender=b\n\n"),
              HasSubstr("attribute sender is given twice"));
  EXPECT_THAT(Error(std::string("sender=a\0b\n", 11)),
              HasSubstr("control character or NUL"));
  EXPECT_THAT(Error("sender=a\rb\n"), HasSubstr("control character"));
  EXPECT_THAT(Error("sender=a\x1b[31m\n"), HasSubstr("control character"));
  EXPECT_THAT(Error("sender=\x7f\n"), HasSubstr("control character"));
}

TEST(PolicyRequestReaderTest, BinaryJunkIsRefusedAtTheFirstBadByte) {
  std::string junk;
  for (int i = 0; i < 256; ++i) junk.push_back(static_cast<char>(i));
  EXPECT_THAT(Error(junk), HasSubstr("control character or NUL"));
}

TEST(PolicyRequestReaderTest, LineLimitIsExact) {
  const std::string longest = "a=" + std::string(kMaxPolicyLineBytes - 2, 'x');
  EXPECT_TRUE(ReadAll(longest + "\n\n").ok());
  EXPECT_THAT(Error(longest + "x"),
              HasSubstr(absl::StrCat("a line is longer than ",
                                     kMaxPolicyLineBytes, " bytes")));
}

TEST(PolicyRequestReaderTest, HugeLineFailsWithoutWaitingForItsEnd) {
  // The first 64 KiB of a 10 MB line without newline already fail: the
  // reader never buffers more than one line's limit.
  PolicyRequestReader reader;
  std::vector<PolicyAttributes> requests;
  ASSERT_TRUE(reader.Consume("sender=", &requests).ok());
  EXPECT_THAT(reader.Consume(std::string(64 * 1024, 'x'), &requests).message(),
              HasSubstr("a line is longer than"));
}

TEST(PolicyRequestReaderTest, AttributeLimitIsExact) {
  std::string request;
  for (size_t i = 0; i < kMaxPolicyAttributes; ++i) {
    absl::StrAppend(&request, "a", i, "=x\n");
  }
  EXPECT_TRUE(ReadAll(request + "\n").ok());
  EXPECT_THAT(Error(request + "one_more=x\n\n"),
              HasSubstr(absl::StrCat("more than ", kMaxPolicyAttributes,
                                     " attributes")));
  std::string thousand;
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&thousand, "x", i, "=1\n");
  EXPECT_THAT(Error(thousand), HasSubstr("attributes"));
}

TEST(PolicyRequestReaderTest, RequestSizeIsBounded) {
  std::string request;
  const std::string value(kMaxPolicyLineBytes - 8, 'v');
  for (int i = 0; request.size() <= kMaxPolicyRequestBytes; ++i) {
    absl::StrAppend(&request, "a", i, "=", value, "\n");
  }
  EXPECT_THAT(Error(request),
              HasSubstr(absl::StrCat("the request is longer than ",
                                     kMaxPolicyRequestBytes, " bytes")));
}

TEST(PolicyRequestReaderTest, MidRequestAfterAnUnfinishedRequest) {
  PolicyRequestReader reader;
  std::vector<PolicyAttributes> requests;
  EXPECT_FALSE(reader.mid_request());
  ASSERT_TRUE(reader.Consume("a=1\n", &requests).ok());
  EXPECT_TRUE(reader.mid_request());
  ASSERT_TRUE(reader.Consume("\n", &requests).ok());
  EXPECT_FALSE(reader.mid_request());
  ASSERT_TRUE(reader.Consume("a", &requests).ok());
  EXPECT_TRUE(reader.mid_request());
}

TEST(PolicyQueryTest, MapsPostfixAttributes) {
  auto requests = ReadAll(RcptRequest("abc.123"));
  ASSERT_TRUE(requests.ok());
  absl::StatusOr<PolicyQuery> parsed =
      PolicyQueryFromAttributes((*requests)[0]);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const InboundQuery& query = parsed->query;
  EXPECT_EQ(query.sender, "alice@org-b.example");
  EXPECT_EQ(query.client_name, "mx1.org-b.example");
  EXPECT_EQ(query.client_address, "192.0.2.10");
  EXPECT_EQ(query.helo_name, "mx1.org-b.example");
  EXPECT_TRUE(query.tls);
  ASSERT_TRUE(query.cert_sha256.has_value());
  EXPECT_EQ(query.cert_sha256->ToColonHex(), kSha256Colon);
  ASSERT_TRUE(query.spki_sha256.has_value());
  EXPECT_EQ(query.spki_sha256->ToColonHex(), kSpkiColon);
  EXPECT_FALSE(query.header_added);
  EXPECT_EQ(parsed->instance, "abc.123");
  EXPECT_EQ(parsed->protocol_state, "RCPT");
  EXPECT_THAT(parsed->unusable_fingerprints, IsEmpty());
}

TEST(PolicyQueryTest, NoTlsNoCertificate) {
  PolicyAttributes attributes = {{"request", "smtpd_access_policy"},
                                 {"sender", "a@b.example"},
                                 {"encryption_protocol", ""},
                                 {"ccert_fingerprint", ""}};
  absl::StatusOr<PolicyQuery> parsed = PolicyQueryFromAttributes(attributes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->query.tls);
  EXPECT_FALSE(parsed->query.cert_sha256.has_value());
  EXPECT_FALSE(parsed->query.spki_sha256.has_value());
  EXPECT_THAT(parsed->unusable_fingerprints, IsEmpty());
  EXPECT_EQ(parsed->instance, "");
}

TEST(PolicyQueryTest, Md5OrJunkFingerprintsAreAbsentAndReported) {
  PolicyAttributes attributes = {{"request", "smtpd_access_policy"},
                                 {"encryption_protocol", "TLSv1.2"},
                                 {"ccert_fingerprint", kMd5Colon},
                                 {"ccert_pubkey_fingerprint", "zz:top"}};
  absl::StatusOr<PolicyQuery> parsed = PolicyQueryFromAttributes(attributes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->query.tls);
  EXPECT_FALSE(parsed->query.cert_sha256.has_value());
  EXPECT_FALSE(parsed->query.spki_sha256.has_value());
  EXPECT_THAT(parsed->unusable_fingerprints,
              ElementsAre(absl::StrCat("ccert_fingerprint=", kMd5Colon),
                          "ccert_pubkey_fingerprint=zz:top"));
}

TEST(PolicyQueryTest, LowerCaseAndColonlessSha256AreAccepted) {
  PolicyAttributes attributes = {
      {"request", "smtpd_access_policy"},
      {"ccert_fingerprint",
       "3b5c6f7e22911a0bccdef0123456789abcdef0123456789abcdef0123456789a"}};
  absl::StatusOr<PolicyQuery> parsed = PolicyQueryFromAttributes(attributes);
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(parsed->query.cert_sha256.has_value());
  EXPECT_EQ(parsed->query.cert_sha256->ToColonHex(), kSha256Colon);
}

TEST(PolicyQueryTest, RequiresTheAccessPolicyRequest) {
  EXPECT_THAT(
      PolicyQueryFromAttributes({{"sender", "a@b.c"}}).status().message(),
      HasSubstr("expected request=smtpd_access_policy"));
  EXPECT_THAT(
      PolicyQueryFromAttributes({{"request", "junk"}}).status().message(),
      HasSubstr("request=junk"));
}

InboundDecision Decision(Action action, std::string header = "",
                         std::string reply = "") {
  InboundDecision decision;
  decision.action = action;
  decision.header = std::move(header);
  decision.reply = std::move(reply);
  return decision;
}

TEST(FormatPolicyReplyTest, EveryActionHasANonEmptyReply) {
  EXPECT_EQ(FormatPolicyReply(Decision(Action::kDunno)), "action=DUNNO\n\n");
  EXPECT_EQ(FormatPolicyReply(Decision(
                Action::kPrepend, "X-DirectTrust: domain-secured; domain=b")),
            "action=PREPEND X-DirectTrust: domain-secured; domain=b\n\n");
  EXPECT_EQ(
      FormatPolicyReply(Decision(Action::kReject, "", "550 5.7.1 no cert")),
      "action=550 5.7.1 no cert\n\n");
  EXPECT_EQ(FormatPolicyReply(Decision(Action::kDefer, "", "451 4.3.0 later")),
            "action=451 4.3.0 later\n\n");
}

TEST(FormatPolicyReplyTest, NeverAnEmptyActionNorAnInjectedLine) {
  EXPECT_EQ(FormatPolicyReply(Decision(Action::kPrepend)), "action=DUNNO\n\n");
  for (Action action : {Action::kReject, Action::kDefer}) {
    const std::string reply = FormatPolicyReply(Decision(action));
    EXPECT_THAT(reply, HasSubstr("action=451 4.3.0 "));
  }
  EXPECT_EQ(
      FormatPolicyReply(Decision(Action::kPrepend, "X-A: b\n\naction=OK\r\n")),
      "action=PREPEND X-A: b  action=OK  \n\n");
  EXPECT_EQ(
      FormatPolicyReply(Decision(Action::kReject, "", "550 x\naction=OK")),
      "action=550 x action=OK\n\n");
}

}  // namespace
}  // namespace dtrust
