// Subject names: RFC 4514 parsing, the X.520 bounds of Table 1 (each at its
// limit and one past it), Unicode counted in characters, repeats, encoding.
#include "client/x509_name.h"

#include <openssl/asn1.h>
#include <openssl/obj_mac.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dtrust::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

constexpr char kSeedExample[] =
    "CN=mx1,OU=Mail,O=Org B,L=Berlin,ST=Berlin,C=DE,DC=org-b,DC=example";

std::string Repeat(const std::string& text, size_t times) {
  std::string out;
  for (size_t i = 0; i < times; ++i) out += text;
  return out;
}

// Parse error message, or "OK".
std::string ParseError(const std::string& text) {
  absl::StatusOr<Subject> subject = Subject::Parse(text, "--subject");
  if (subject.ok()) return "OK";
  EXPECT_EQ(subject.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(subject.status().message());
}

// The single value of `text`'s first attribute.
std::string ValueOf(const std::string& text) {
  absl::StatusOr<Subject> subject = Subject::Parse(text, "--subject");
  EXPECT_TRUE(subject.ok()) << text << ": " << subject.status();
  if (!subject.ok() || subject->attributes().empty()) return "";
  return subject->attributes()[0].value;
}

// FormatRfc4514(Parse(text).ToX509Name()).
std::string RoundTrip(const std::string& text) {
  absl::StatusOr<Subject> subject = Subject::Parse(text, "--subject");
  EXPECT_TRUE(subject.ok()) << subject.status();
  if (!subject.ok()) return "";
  absl::StatusOr<X509NamePtr> name = subject->ToX509Name();
  EXPECT_TRUE(name.ok()) << name.status();
  return name.ok() ? FormatRfc4514(name->get()) : "";
}

TEST(SubjectTest, ParsesTheSeedExampleInOrder) {
  absl::StatusOr<Subject> subject = Subject::Parse(kSeedExample, "--subject");
  ASSERT_TRUE(subject.ok()) << subject.status();
  EXPECT_THAT(subject->attributes(),
              ElementsAre(Field(&SubjectAttribute::type, "CN"),
                          Field(&SubjectAttribute::type, "OU"),
                          Field(&SubjectAttribute::type, "O"),
                          Field(&SubjectAttribute::type, "L"),
                          Field(&SubjectAttribute::type, "ST"),
                          Field(&SubjectAttribute::type, "C"),
                          Field(&SubjectAttribute::type, "DC"),
                          Field(&SubjectAttribute::type, "DC")));
  EXPECT_EQ(subject->attributes()[2].value, "Org B");
  EXPECT_EQ(RoundTrip(kSeedExample), kSeedExample);
}

TEST(SubjectTest, EncodesMostSignificantFirstWithTable1StringTypes) {
  absl::StatusOr<Subject> subject = Subject::Parse(kSeedExample, "--subject");
  ASSERT_TRUE(subject.ok()) << subject.status();
  absl::StatusOr<X509NamePtr> name = subject->ToX509Name();
  ASSERT_TRUE(name.ok()) << name.status();
  ASSERT_EQ(X509_NAME_entry_count(name->get()), 8);
  struct Expected {
    int nid;
    int string_type;
    std::string value;
  };
  const std::vector<Expected> expected = {
      {NID_domainComponent, V_ASN1_IA5STRING, "example"},
      {NID_domainComponent, V_ASN1_IA5STRING, "org-b"},
      {NID_countryName, V_ASN1_PRINTABLESTRING, "DE"},
      {NID_stateOrProvinceName, V_ASN1_UTF8STRING, "Berlin"},
      {NID_localityName, V_ASN1_UTF8STRING, "Berlin"},
      {NID_organizationName, V_ASN1_UTF8STRING, "Org B"},
      {NID_organizationalUnitName, V_ASN1_UTF8STRING, "Mail"},
      {NID_commonName, V_ASN1_UTF8STRING, "mx1"},
  };
  for (int i = 0; i < 8; ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name->get(), i);
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(entry);
    EXPECT_EQ(OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry)), expected[i].nid)
        << i;
    EXPECT_EQ(ASN1_STRING_type(data), expected[i].string_type) << i;
    EXPECT_EQ(
        std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                    ASN1_STRING_length(data)),
        expected[i].value)
        << i;
    // One attribute per RDN.
    EXPECT_EQ(X509_NAME_ENTRY_set(entry), i) << i;
  }
}

struct Bound {
  std::string type;
  size_t max;
};

class BoundTest : public ::testing::TestWithParam<Bound> {};

TEST_P(BoundTest, AcceptsTheLimitAndRejectsOneMore) {
  const Bound& bound = GetParam();
  EXPECT_EQ(ParseError(bound.type + "=" + Repeat("x", bound.max)), "OK");
  EXPECT_EQ(ParseError(bound.type + "=" + Repeat("x", bound.max + 1)),
            "--subject: " + bound.type + " is " +
                std::to_string(bound.max + 1) + " characters; at most " +
                std::to_string(bound.max));
}

INSTANTIATE_TEST_SUITE_P(Table1, BoundTest,
                         ::testing::Values(Bound{"CN", 64}, Bound{"O", 64},
                                           Bound{"OU", 64}, Bound{"L", 128},
                                           Bound{"ST", 128}, Bound{"DC", 255}),
                         [](const auto& info) { return info.param.type; });

// The Unicode (UTF8String) ones; DC is ASCII only, C is tested below.
class UnicodeBoundTest : public ::testing::TestWithParam<Bound> {};

TEST_P(UnicodeBoundTest, CountsCharactersNotBytes) {
  const Bound& bound = GetParam();
  // "ä" is 2 bytes in UTF-8, "😀" is 4: both count as one character.
  for (const std::string character : {"ä", "😀"}) {
    const std::string at_limit = Repeat(character, bound.max);
    EXPECT_EQ(ParseError(bound.type + "=" + at_limit), "OK") << character;
    EXPECT_EQ(ValueOf(bound.type + "=" + at_limit), at_limit);
    EXPECT_EQ(ParseError(bound.type + "=" + Repeat(character, bound.max + 1)),
              "--subject: " + bound.type + " is " +
                  std::to_string(bound.max + 1) + " characters; at most " +
                  std::to_string(bound.max))
        << character;
  }
}

INSTANTIATE_TEST_SUITE_P(Table1, UnicodeBoundTest,
                         ::testing::Values(Bound{"CN", 64}, Bound{"O", 64},
                                           Bound{"OU", 64}, Bound{"L", 128},
                                           Bound{"ST", 128}),
                         [](const auto& info) { return info.param.type; });

TEST(SubjectTest, CountryIsExactlyTwoAsciiLetters) {
  EXPECT_EQ(ValueOf("C=DE"), "DE");
  EXPECT_EQ(ValueOf("C=de"), "DE");  // Upper-cased.
  EXPECT_EQ(ParseError("C=DEU"),
            "--subject: C is 3 characters; exactly 2 ASCII letters (an ISO "
            "3166 country code)");
  EXPECT_EQ(ParseError("C=D"),
            "--subject: C is 1 characters; exactly 2 ASCII letters (an ISO "
            "3166 country code)");
  EXPECT_THAT(ParseError("C=D1"), HasSubstr("C \"D1\" is not 2 ASCII letters"));
  EXPECT_THAT(ParseError("C=Dä"), HasSubstr("C \"Dä\" is not 2 ASCII letters"));
  EXPECT_THAT(ParseError("C="), HasSubstr("C is 0 characters"));
}

TEST(SubjectTest, DomainComponentIsAscii) {
  EXPECT_EQ(ParseError("DC=xn--bcher-kva"), "OK");
  EXPECT_EQ(ParseError("DC=bücher"),
            "--subject: DC \"bücher\" is not ASCII (an IA5String; use the "
            "A-label of an IDN)");
}

TEST(SubjectTest, OnlyOuAndDcRepeat) {
  EXPECT_EQ(ParseError("CN=a,OU=Mail,OU=IT,DC=b,DC=c,DC=d"), "OK");
  for (const std::string type : {"CN", "O", "L", "ST"}) {
    EXPECT_EQ(ParseError(type + "=a," + type + "=b"),
              "--subject: " + type +
                  " appears 2 times; at most once (only OU and DC may repeat)");
  }
  EXPECT_EQ(ParseError("C=DE,O=x,C=FR"),
            "--subject: C appears 2 times; at most once (only OU and DC may "
            "repeat)");
}

TEST(SubjectTest, Escapes) {
  EXPECT_EQ(ValueOf(R"(O=Org\, B)"), "Org, B");
  EXPECT_EQ(ValueOf(R"(O=A\+B)"), "A+B");
  EXPECT_EQ(ValueOf(R"(O=\"Q\")"), "\"Q\"");
  EXPECT_EQ(ValueOf(R"(O=back\\slash)"), "back\\slash");
  EXPECT_EQ(ValueOf(R"(O=a\;b\<c\>d\=e)"), "a;b<c>d=e");
  EXPECT_EQ(ValueOf(R"(O=\#1)"), "#1");
  EXPECT_EQ(ValueOf(R"(O=\C3\A4rger)"), "ärger");  // Hex UTF-8 bytes.
  EXPECT_EQ(ValueOf(R"(O=\ padded\ )"), " padded ");
  EXPECT_EQ(ValueOf("O=a=b"), "a=b");  // '=' in a value needs no escape.
  // The escaped comma does not split the RDN.
  absl::StatusOr<Subject> subject =
      Subject::Parse(R"(CN=mx1,O=Org\, B,C=DE)", "--subject");
  ASSERT_TRUE(subject.ok()) << subject.status();
  EXPECT_EQ(subject->attributes().size(), 3u);
  EXPECT_EQ(RoundTrip(R"(CN=mx1,O=Org\, B,C=DE)"), R"(CN=mx1,O=Org\, B,C=DE)");
  EXPECT_EQ(RoundTrip(R"(O=\"x\"\+y)"), R"(O=\"x\"\+y)");
  // Found by tests/fuzz/subject_fuzzer: a value that starts with '#'.
  EXPECT_EQ(RoundTrip(R"(O=\#)"), R"(O=\#)");
  EXPECT_EQ(RoundTrip(R"(O=\#x)"), R"(O=\#x)");
}

TEST(SubjectTest, IgnoresUnescapedSpacesAroundSeparators) {
  absl::StatusOr<Subject> subject =
      Subject::Parse("  CN = mx1 , O=Org B  ,  C=DE ", "--subject");
  ASSERT_TRUE(subject.ok()) << subject.status();
  EXPECT_EQ(subject->attributes()[0].value, "mx1");
  EXPECT_EQ(subject->attributes()[1].value, "Org B");
  EXPECT_EQ(subject->attributes()[2].value, "DE");
}

TEST(SubjectTest, AcceptsLongAttributeNamesInAnyCase) {
  EXPECT_EQ(RoundTrip("commonName=mx1,organizationName=X,countryName=de,"
                      "domaincomponent=example"),
            "CN=mx1,O=X,C=DE,DC=example");
  EXPECT_EQ(RoundTrip("cn=mx1,ou=a,st=b,l=c"), "CN=mx1,OU=a,ST=b,L=c");
}

TEST(SubjectTest, RejectsMalformedNamesSayingWhere) {
  EXPECT_EQ(ParseError(""),
            "--subject: is empty; give a name such as "
            "CN=mx1.example.org,O=Org");
  EXPECT_EQ(ParseError("CN=a+OU=b"),
            "--subject: unescaped '+' in CN (multi-valued RDNs are not "
            "supported; write \\+ for a plus) at position 5");
  EXPECT_EQ(ParseError(R"(O=say "hi")"),
            "--subject: unescaped '\"' in O (write \\\") at position 7");
  EXPECT_EQ(ParseError("O=a;b"),
            "--subject: unescaped ';' in O (write \\;) at position 4");
  EXPECT_EQ(ParseError("CN=a,,O=b"), "--subject: empty RDN at position 6");
  EXPECT_EQ(ParseError("CN=a,"), "--subject: empty RDN at position 6");
  EXPECT_EQ(ParseError("CN=a,mx1"),
            "--subject: \"mx1\" is not TYPE=VALUE at position 6");
  EXPECT_EQ(ParseError("E=root@example.org"),
            "--subject: unknown attribute type \"E\" (use C, ST, L, O, OU, CN "
            "or DC) at position 1");
  EXPECT_EQ(ParseError("CN=#0403"),
            "--subject: CN value starts with '#' (BER values are not "
            "supported; write \\#) at position 4");
  EXPECT_THAT(ParseError(R"(CN=a\q)"), HasSubstr("bad escape \"\\q\""));
  EXPECT_EQ(ParseError("CN=a\\"),
            "--subject: '\\' at the end of the name at position 5");
  EXPECT_EQ(ParseError("CN="), "--subject: CN is empty; at least 1 character");
  EXPECT_EQ(ParseError("CN=  "),
            "--subject: CN is empty; at least 1 character");
  EXPECT_EQ(ParseError(R"(CN=\FF)"), "--subject: CN is not valid UTF-8");
  EXPECT_EQ(ParseError(R"(CN=\C0\AF)"), "--subject: CN is not valid UTF-8");
  EXPECT_EQ(ParseError(R"(CN=a\0Ab)"),
            "--subject: CN contains the control character U+000A");
}

}  // namespace
}  // namespace dtrust::cli
