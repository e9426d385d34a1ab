#include "platform/json/json_text.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::json {
namespace {

using ::testing::HasSubstr;

TEST(CheckJsonSyntax, AcceptsWellFormedJson) {
  for (const char* text : {"{}", "[]", "0", "-1.5e+3", "\"a\\u00e9\\n\"", "true", "null",
                           " {\"a\": [1, {\"b\": false}], \"c\": \"caf\xC3\xA9 \xF0\x9F\x98\x80\"} \n"}) {
    EXPECT_TRUE(CheckJsonSyntax(text).ok()) << text << ": " << CheckJsonSyntax(text);
  }
}

TEST(CheckJsonSyntax, SaysWhereMalformedJsonBreaks) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "line 1, column 1 (byte 0): expected a value, found the end"},
      {"{\"a\": 1,}", "line 1, column 9 (byte 8): expected a member name"},
      {"{\"a\" 1}", "line 1, column 6 (byte 5): expected ':'"},
      {"{\n  \"a\": tru\n}", "line 2, column 8 (byte 9): expected a value"},
      {"[1 2]", "line 1, column 4 (byte 3): expected ',' or ']'"},
      {"{\"a\": 1} x", "line 1, column 10 (byte 9): unexpected text after the JSON value"},
      {"01", "unexpected text after the JSON value"},
      {"1.", "expected a digit after '.'"},
      {"\"a\tb\"", "control character in a string"},
      {"\"\\x\"", "bad escape"},
      {"\"\\u12g4\"", "bad \\u escape"},
      {"\"abc", "unterminated string"},
      {"\"\xC0\xAF\"", "invalid UTF-8"},
      {"\"\xED\xA0\x80\"", "invalid UTF-8"},  // a surrogate
      {"{'a': 1}", "expected a member name"},
      {"// comment\n{}", "expected a value"},
  };
  for (const auto& [text, why] : cases) {
    const absl::Status status = CheckJsonSyntax(text);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(status.message(), HasSubstr(why)) << text;
  }
  EXPECT_THAT(CheckJsonSyntax(std::string(100, '[') + std::string(100, ']')).message(),
              HasSubstr("nested too deep"));
}

TEST(JsonMemberText, FindsATopLevelMember) {
  EXPECT_EQ(JsonMemberText(R"({"a":{"b":1},"books":[{"x":"]"}],"c":2})", "books"), R"([{"x":"]"}])");
  EXPECT_EQ(JsonMemberText(R"({"a":{"books":1}})", "books"), std::nullopt);
  EXPECT_EQ(JsonMemberText(R"({"n": -3 })", "n"), "-3");
  EXPECT_EQ(JsonMemberText("[]", "n"), std::nullopt);
}

TEST(JsonQuote, EscapesWhatJsonRequires) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01\xC3\xA9"), "\"a\\\"b\\\\c\\n\\u0001\xC3\xA9\"");
  EXPECT_TRUE(CheckJsonSyntax(JsonQuote("\t\r\x1f")).ok());
  EXPECT_EQ(JsonQuote("\b\f\r\t\x1f"), "\"\\b\\f\\r\\t\\u001f\"");
  EXPECT_EQ(JsonQuote(""), "\"\"");
  EXPECT_EQ(JsonQuote(absl::string_view("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(JsonObject, WritesItsMembersInTheOrderAdded) {
  EXPECT_EQ(JsonObject().Close(), "{}");
  EXPECT_EQ(JsonObject().String("a\"b", "x\ny").Raw("n", "[1,2]").String("e", "").Close(),
            R"({"a\"b":"x\ny","n":[1,2],"e":""})");
}

}  // namespace
}  // namespace choreo::json
