#include "model/documents.h"

#include "common/status.h"
#include "gtest/gtest.h"

namespace causeway::model {
namespace {

constexpr char kSeed[] = R"(kind: Zone
name: dev-local
---
kind: Route
name: api
zone: dev-local
domain: demo.turbinelabs.io:8888
path: /api
route_group: default
---
kind: Cluster
name: envoy-simple
zone: dev-local
)";

TEST(DocumentsTest, ParsesMultiDocumentYaml) {
  auto docs = ParseDocuments("seed.yaml", kSeed);
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 3u);
  EXPECT_EQ((*docs)[1].number, 2);
  EXPECT_EQ((*docs)[1].parsed.key.kind, model::Kind::kRoute);
  SortForApply(*docs);
  EXPECT_EQ((*docs)[0].parsed.key.kind, model::Kind::kZone);
  EXPECT_EQ((*docs)[1].parsed.key.kind, model::Kind::kCluster);
  EXPECT_EQ((*docs)[2].parsed.key.kind, model::Kind::kRoute);
}

TEST(DocumentsTest, ErrorNamesFileDocumentLineAndField) {
  std::string text = std::string(kSeed) +
                     "---\n\n---\nkind: Route\nname: bad\nzone: dev-local\n"
                     "domain: demo.turbinelabs.io:8888\npath: api\nroute_group: default\n";
  auto docs = ParseDocuments("seed.yaml", text);
  ASSERT_FALSE(docs.ok());
  // The empty document still counts: this is the fifth.
  EXPECT_EQ(std::string(docs.status().message()),
            "seed.yaml:21: document 5 (Route dev-local/bad): path: must start with /")
      << docs.status();
  EXPECT_EQ(ErrorField(docs.status()), "path");
}

TEST(DocumentsTest, UnknownFieldAndMissingKind) {
  auto docs = ParseDocuments("x.yaml", "kind: Proxy\nname: p\nzone: z\ndomainz: []\n");
  ASSERT_FALSE(docs.ok());
  EXPECT_NE(
      std::string(docs.status().message()).find("document 1 (Proxy z/p): domainz: unknown field"),
      std::string::npos)
      << docs.status();
  docs = ParseDocuments("x.yaml", "name: p\n");
  ASSERT_FALSE(docs.ok());
  EXPECT_NE(std::string(docs.status().message()).find("kind: is required"), std::string::npos);
}

TEST(DocumentsTest, ListDocumentAndNestedFieldLine) {
  auto docs = ParseDocuments("l.json", R"([{"kind": "Zone", "name": "z"},
{"kind": "RouteGroup", "name": "g", "zone": "z",
 "default": [{"cluster": "Bad_Name"}]}])");
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(
      std::string(docs.status().message()),
      "l.json:3: document 1, item 2 (RouteGroup z/g): default[0].cluster: is not a valid name");
}

TEST(DocumentsTest, BadYamlNamesLine) {
  auto docs = ParseDocuments("b.yaml", "kind: Zone\nname: [unclosed\n");
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(std::string(docs.status().message()).rfind("b.yaml:", 0), 0u);
}

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// Hostile files fail with an error naming the file and the line; none of
// them may crash or hang the reader.
TEST(DocumentsTest, HostileYamlIsRefusedWithTheLine) {
  struct Case {
    std::string name;
    std::string text;
    std::string expected;  // part of the message
  };
  std::string block;  // 10,000 mappings, each indented one more
  for (size_t i = 0; i < 10000; ++i) block += std::string(i, ' ') + "a:\n";
  std::string laughs =
      "kind: Zone\nname: z\ndescription:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    laughs += "  a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) laughs += (j ? ", *a" : "*a") + std::to_string(i - 1);
    laughs += "]\n";
  }
  std::vector<Case> cases = {
      {"flow", Repeat("[", 100000) + Repeat("]", 100000) + "\n",
       "deep.yaml: line 1, column 65: nested deeper than 64 levels"},
      {"flow map", "\n" + Repeat("{a: ", 100000) + "1" + Repeat("}", 100000) + "\n",
       "deep.yaml: line 2, column 257: nested deeper than 64 levels"},
      {"dashes", Repeat("- ", 10000) + "x\n",
       "deep.yaml: line 1, column 129: nested deeper than 64 levels"},
      {"block", block, "deep.yaml: line 65, column 65: nested deeper than 64 levels"},
      {"alias in its own anchor", "kind: Zone\nname: z\ndescription: &x [*x]\n",
       "deep.yaml: document 1: line 3: nested deeper than 64 levels"},
      {"billion laughs", laughs,
       "deep.yaml: document 1: line 4: more than 1000000 values (an alias counts each time"},
      {"long scalar", "kind: Zone\nname: z\ndescription: " + std::string(900000, 'x') + "\n",
       "deep.yaml: document 1: line 3: a scalar of 900000 bytes (more than 65536)"},
      {"invalid UTF-8", "kind: Zone\nname: z\ndescription: \"ok \xff\xfe\"\n",
       "deep.yaml: document 1: line 3: not valid UTF-8"},
      {"UTF-8 surrogate", "kind: Zone\nname: z\n\xed\xa0\x80: 1\n",
       "deep.yaml: document 1: line 3: not valid UTF-8"},
      {"overlong UTF-8", "kind: Zone\nname: z\ndescription: [\"\xc0\x80\"]\n",
       "deep.yaml: document 1: line 3: not valid UTF-8"},
      // yaml-cpp 0.7's LoadAll loops forever on these, collecting empty
      // documents until memory runs out.
      {"stray comma", ",", "deep.yaml: line 1, column 1: not valid YAML: no node can start here"},
      {"stray comma after a document", "kind: Zone\nname: z\n---\n,\n",
       "deep.yaml: line 4, column 1: not valid YAML: no node can start here"},
      {"truncated UTF-8", "kind: Zone\nname: z\ndescription: \xe2\x82\n",
       "deep.yaml: document 1: line 3: not valid UTF-8"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto docs = ParseDocuments("deep.yaml", c.text);
    ASSERT_FALSE(docs.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(docs.status())) << docs.status();
    EXPECT_NE(docs.status().message().find(c.expected), std::string::npos) << docs.status();
  }
  // Valid UTF-8 of every length passes.
  auto utf8 = ParseDocuments("u.yaml", "kind: Zone\nname: z\ndescription: \"é€😀 \u00e9\"\n");
  ASSERT_TRUE(utf8.ok()) << utf8.status();
  EXPECT_EQ((*utf8)[0].json["description"], "é€😀 é");
  // 64 levels are fine.
  auto ok = YamlToJson(YAML::Load(Repeat("[", 64) + Repeat("]", 64)));
  EXPECT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(CheckYamlStructure(Repeat("- ", 64) + "x\n", 64).ok());
}

// An invalid document whose name or kind is not a string is an error, not
// an exception (Json::value throws on a type mismatch).
TEST(DocumentsTest, NamesThatAreNotStrings) {
  for (const std::string text :
       {"kind: Zone\nname:\nfoo: 1\n", "kind: Zone\nname: 5\nfoo: 1\n",
        "kind: [Zone]\nname: z\nfoo: 1\n", "kind: Cluster\nname: web\nzone: {a: 1}\nfoo: 1\n"}) {
    SCOPED_TRACE(text);
    auto docs = ParseDocuments("n.yaml", text);
    ASSERT_FALSE(docs.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(docs.status())) << docs.status();
    EXPECT_NE(docs.status().message().find("n.yaml:"), std::string::npos) << docs.status();
  }
}

TEST(DocumentsTest, NumbersBeyondADoubleStayText) {
  auto docs =
      ParseDocuments("n.yaml",
                     "kind: Cluster\nname: web\nzone: z\ninstances:\n- host: h\n  port: 80\n"
                     "  metadata: {big: 1e999, long: 12345678901234567890123456789}\n");
  ASSERT_TRUE(docs.ok()) << docs.status();
  const Json& metadata = (*docs)[0].json["instances"][0]["metadata"];
  EXPECT_EQ(metadata["big"], "1e999");
  EXPECT_TRUE(metadata["long"].is_number_float());
  auto port = ParseDocuments("n.yaml",
                             "kind: Cluster\nname: web\nzone: z\ninstances:\n"
                             "- host: h\n  port: 1e999\n");
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.status().message().find("n.yaml:6"), std::string::npos) << port.status();
}

TEST(DocumentsTest, PortableJsonDropsMetadataAndEmptyValues) {
  Json api = {{"kind", "Domain"},
              {"name", "a.b:80"},
              {"zone", "z"},
              {"version", "7"},
              {"created_at", "2024-01-01T00:00:00Z"},
              {"updated_at", "2024-01-01T00:00:00Z"},
              {"host", "a.b"},
              {"port", 80},
              {"aliases", Json::array()}};
  Json portable = PortableJson(api);
  EXPECT_EQ(
      portable,
      Json({{"kind", "Domain"}, {"name", "a.b:80"}, {"zone", "z"}, {"host", "a.b"}, {"port", 80}}));
  // And it parses back to the same canonical spec.
  auto a = model::ParseAnyObject(api);
  auto b = model::ParseAnyObject(portable);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->spec, b->spec);
}

// `tls: {}` means TLS with the defaults, so an exported cluster keeps it.
TEST(DocumentsTest, PortableJsonKeepsAnEmptyTls) {
  Json api = {{"kind", "Cluster"},
              {"name", "svc"},
              {"zone", "z"},
              {"version", "3"},
              {"tls", Json::object()},
              {"protocol", "auto"},
              {"instances", Json::array()}};
  Json portable = PortableJson(api);
  EXPECT_EQ(portable, Json({{"kind", "Cluster"},
                            {"name", "svc"},
                            {"zone", "z"},
                            {"tls", Json::object()},
                            {"protocol", "auto"}}));
  auto a = model::ParseAnyObject(api);
  auto b = model::ParseAnyObject(portable);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->spec, b->spec);
}

}  // namespace
}  // namespace causeway::model
