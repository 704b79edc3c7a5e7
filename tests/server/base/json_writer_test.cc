#include "server/base/json_writer.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/json_value.h"

namespace dtrust {
namespace {

using namespace std::string_literals;  // NOLINT(google-build-using-namespace)

TEST(JsonWriterTest, NestsObjectsAndArraysWithCommas) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  json.Field("name", "mx1.org-b.example");
  json.StringArray("domains", {"a.example", "b.example"});
  json.Key("pins");
  json.BeginArray();
  json.BeginObject();
  json.Field("n", "42");
  json.NullableField("absent", std::nullopt);
  json.EndObject();
  json.BeginArray();
  json.EndArray();
  json.String("x");
  json.EndArray();
  json.StringArray("empty", {});
  json.EndObject();
  EXPECT_EQ(
      out, R"({"name":"mx1.org-b.example","domains":["a.example","b.example"],)"
           R"("pins":[{"n":"42","absent":null},[],"x"],"empty":[]})");
}

TEST(JsonWriterTest, WritesBooleansAndUnsignedNumbers) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  json.Key("yes");
  json.Bool(true);
  json.Key("no");
  json.Bool(false);
  json.Key("numbers");
  json.BeginArray();
  json.Uint(0);
  json.Uint(18446744073709551615u);
  json.EndArray();
  json.EndObject();
  EXPECT_EQ(out,
            R"({"yes":true,"no":false,"numbers":[0,18446744073709551615]})");
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
  std::string out;
  JsonWriter json(&out);
  json.String("q\" b\\ n\n r\r t\t b\b f\f nul\0 esc\x1f del\x7f"s);
  EXPECT_EQ(out, R"("q\" b\\ n\n r\r t\t b\b f\f nul\u0000 esc\u001f del)"
                 "\x7f\"");
}

TEST(JsonWriterTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  std::string out;
  JsonWriter json(&out);
  json.BeginArray();
  json.String("CN=M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x94\x92");  // ü € 🔒
  json.String("\xff");              // Never valid.
  json.String("\xc0\xaf");          // Overlong '/'.
  json.String("\xed\xa0\x80");      // A surrogate.
  json.String("\xf4\x90\x80\x80");  // Above U+10FFFF.
  json.String("cut \xe2\x82");      // Truncated sequence.
  json.EndArray();
  EXPECT_EQ(out,
            "[\"CN=M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x94\x92\","
            R"("\ufffd","\ufffd\ufffd","\ufffd\ufffd\ufffd",)"
            R"("\ufffd\ufffd\ufffd\ufffd","cut \ufffd\ufffd"])");
  // And a real JSON parser agrees it is valid.
  google::protobuf::Value parsed = testing::ParseJson(out);
  EXPECT_EQ(parsed.list_value().values(0).string_value(),
            "CN=M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x94\x92");
}

TEST(JsonWriterTest, RoundTripsThroughAJsonParser) {
  const std::string nasty = "a\"b\\c\n\x01/</script>";
  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  json.Field(nasty, nasty);
  json.EndObject();
  google::protobuf::Value parsed = testing::ParseJson(out);
  EXPECT_EQ(testing::Field(parsed, nasty).string_value(), nasty);
}

}  // namespace
}  // namespace dtrust
