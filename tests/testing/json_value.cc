#include "tests/testing/json_value.h"

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace dtrust::testing {

google::protobuf::Value ParseJson(const std::string& json) {
  google::protobuf::Value value;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &value);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in:\n" << json;
  return value;
}

const google::protobuf::Value& Field(const google::protobuf::Value& object,
                                     const std::string& key) {
  static const google::protobuf::Value* const kMissing =
      new google::protobuf::Value;
  const auto& fields = object.struct_value().fields();
  const auto it = fields.find(key);
  if (it == fields.end()) {
    ADD_FAILURE() << "JSON has no field \"" << key << "\"";
    return *kMissing;
  }
  return it->second;
}

std::vector<std::string> StringList(const google::protobuf::Value& list) {
  std::vector<std::string> strings;
  for (const auto& value : list.list_value().values()) {
    strings.push_back(value.string_value());
  }
  return strings;
}

}  // namespace dtrust::testing
