#include "model/yaml_json.h"

#include "gtest/gtest.h"

namespace causeway::model {
namespace {

Json FromYaml(const std::string& text) {
  auto json = YamlToJson(YAML::Load(text));
  EXPECT_TRUE(json.ok()) << json.status();
  return json.ok() ? *json : Json();
}

TEST(YamlJsonTest, PlainScalarsAreTypedQuotedOnesAreStrings) {
  Json j =
      FromYaml("port: 8888\nquoted: \"8888\"\nyes_is_text: yes\nflag: true\nnone: ~\nratio: 1.5\n");
  EXPECT_EQ(j["port"], 8888);
  EXPECT_EQ(j["quoted"], "8888");
  EXPECT_EQ(j["yes_is_text"], "yes");  // YAML 1.2: only true/false are booleans
  EXPECT_EQ(j["flag"], true);
  EXPECT_TRUE(j["none"].is_null());
  EXPECT_DOUBLE_EQ(j["ratio"].get<double>(), 1.5);
}

TEST(YamlJsonTest, JsonIsYaml) {
  Json j = FromYaml(R"({"kind": "Proxy", "domains": ["a.b:80"], "n": 3})");
  EXPECT_EQ(j, Json::parse(R"({"kind": "Proxy", "domains": ["a.b:80"], "n": 3})"));
}

TEST(YamlJsonTest, DuplicateKeyIsAnError) {
  auto json = YamlToJson(YAML::Load("a: 1\na: 2\n"));
  EXPECT_FALSE(json.ok());
}

TEST(YamlJsonTest, RoundTripKeepsTypesAndPutsIdentityFirst) {
  Json j = {{"zone", "dev-local"},
            {"name", "x"},
            {"kind", "Cluster"},
            {"instances",
             {{{"host", "10.0.0.1"}, {"port", 80}, {"metadata", {{"v", "1"}, {"b", "true"}}}}}},
            {"description", ""},
            {"empty", Json::array()},
            {"map", Json::object()}};
  std::string yaml = JsonToYaml(j);
  EXPECT_EQ(yaml.rfind("kind: Cluster\nname: x\nzone: dev-local\n", 0), 0u) << yaml;
  EXPECT_EQ(FromYaml(yaml), j) << yaml;
}

TEST(YamlJsonTest, DocumentsAreSeparated) {
  std::string text = JsonToYamlDocuments({{{"a", 1}}, {{"b", 2}}});
  EXPECT_EQ(text, "a: 1\n---\nb: 2\n");
}

}  // namespace
}  // namespace causeway::model
