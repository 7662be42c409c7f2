#include "model/bounded_json.h"

#include <string>
#include <vector>

#include "common/status.h"
#include "gtest/gtest.h"

namespace causeway::model {
namespace {

std::string Nested(size_t depth, std::string_view open, std::string_view inner,
                   std::string_view close) {
  std::string s;
  for (size_t i = 0; i < depth; ++i) s += open;
  s += inner;
  for (size_t i = 0; i < depth; ++i) s += close;
  return s;
}

std::string Message(const absl::StatusOr<Json>& r) { return std::string(r.status().message()); }

TEST(BoundedJsonTest, ParsesWhatNlohmannParses) {
  const std::string text =
      R"({"items": [{"kind": "Route", "name": "r", "rules": [{"targets": [{"cluster": "web",
          "weight": 1, "metadata": {"stage": "blue"}}]}]}], "n": -3, "u": 18446744073709551615,
          "f": 1.5, "t": true, "z": null, "s": "\u00e9\ud83d\ude00", "e": [], "o": {}})";
  absl::StatusOr<Json> parsed = ParseBoundedJson(text, "body");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, Json::parse(text));
  EXPECT_TRUE((*parsed)["u"].is_number_unsigned());
  EXPECT_TRUE((*parsed)["n"].is_number_integer());
  // A repeated key keeps the last value, as nlohmann does.
  EXPECT_EQ(*ParseBoundedJson(R"({"a": 1, "a": [2]})", "body"), Json::parse(R"({"a": [2]})"));
  EXPECT_EQ(*ParseBoundedJson("7", "body"), Json(7));
}

TEST(BoundedJsonTest, DepthIsRefusedAtTheByteThatBreaksIt) {
  EXPECT_TRUE(ParseBoundedJson(Nested(64, "[", "", "]"), "body").ok());
  auto deep = ParseBoundedJson(Nested(100000, "[", "", "]"), "body");
  ASSERT_TRUE(absl::IsInvalidArgument(deep.status()));
  EXPECT_EQ(Message(deep), "body: nested deeper than 64 levels at byte 65");
  std::string path;
  for (int i = 0; i < 64; ++i) path += "[0]";
  EXPECT_EQ(ErrorField(deep.status()), path);

  auto objects = ParseBoundedJson(Nested(100000, R"({"a":)", "1", "}"), "body");
  ASSERT_FALSE(objects.ok());
  EXPECT_EQ(Message(objects), "body: nested deeper than 64 levels at byte 321");
  JsonLimits shallow;
  shallow.max_depth = 2;
  auto items = ParseBoundedJson(R"({"items": [1, 2, {"x": 1}]})", "body", shallow);
  ASSERT_FALSE(items.ok());
  EXPECT_EQ(ErrorField(items.status()), "items[2]");
}

TEST(BoundedJsonTest, StringsKeysAndValuesAreBounded) {
  JsonLimits limits;
  limits.max_string_bytes = 8;
  limits.max_object_keys = 3;
  limits.max_values = 10;
  EXPECT_TRUE(ParseBoundedJson(R"({"k": "12345678"})", "body", limits).ok());
  auto string = ParseBoundedJson(R"({"k": ["123456789"]})", "body", limits);
  ASSERT_FALSE(string.ok());
  EXPECT_EQ(Message(string), "body: a string of 9 bytes (more than 8) ending at byte 18");
  EXPECT_EQ(ErrorField(string.status()), "k[0]");
  auto key = ParseBoundedJson(R"({"x": {"123456789": 1}})", "body", limits);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(ErrorField(key.status()), "x.123456789");
  auto keys = ParseBoundedJson(R"({"o": {"a": 1, "b": 2, "c": 3, "d": 4}})", "body", limits);
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(Message(keys), "body: an object with more than 3 keys at byte 34");
  EXPECT_EQ(ErrorField(keys.status()), "o");
  auto values = ParseBoundedJson("[1,2,3,4,5,6,7,8,9,10,11]", "body", limits);
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(Message(values), "body: more than 10 values at byte 22");
}

TEST(BoundedJsonTest, MalformedInvalidUtf8AndHugeNumbers) {
  for (const std::string& text : std::vector<std::string>{
           "", "   ", "garbage", "{", "[1,2", "{}{}", "{\"a\":}", "\"\xff\xfe\"", "[\"\xc0\x80\"]",
           "[\"\xe2\x82\"]", R"(["\ud800"])", std::string("[\"a\0b\"]", 7), "[1e999]", "-1e999",
           "{\"n\": 1E400}"}) {
    SCOPED_TRACE(text);
    auto r = ParseBoundedJson(text, "body");
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
    EXPECT_TRUE(Message(r).starts_with("body: ")) << Message(r);
  }
  EXPECT_EQ(Message(ParseBoundedJson("[1e999]", "body")),
            "body: the number 1e999 at byte 6 is out of range");
  EXPECT_NE(Message(ParseBoundedJson("{", "body")).find("malformed JSON: parse error at line 1"),
            std::string::npos);
  // 100 digits do not fit 64 bits: a double, as nlohmann's parser makes it.
  auto big = ParseBoundedJson("[" + std::string(100, '9') + "]", "body");
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_TRUE((*big)[0].is_number_float());
}

}  // namespace
}  // namespace causeway::model
