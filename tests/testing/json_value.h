// Reading JSON output in tests: protobuf's JSON parser into a
// google::protobuf::Value, and shorthands for its fields.
#ifndef DTRUST_TESTS_TESTING_JSON_VALUE_H_
#define DTRUST_TESTS_TESTING_JSON_VALUE_H_

#include <string>
#include <vector>

#include "google/protobuf/struct.pb.h"

namespace dtrust::testing {

// Parses one JSON document with protobuf's JSON parser (fails the test on
// invalid JSON, returning an empty value).
google::protobuf::Value ParseJson(const std::string& json);
// Shorthands for the parsed value.
const google::protobuf::Value& Field(const google::protobuf::Value& object,
                                     const std::string& key);
std::vector<std::string> StringList(const google::protobuf::Value& list);

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_JSON_VALUE_H_
