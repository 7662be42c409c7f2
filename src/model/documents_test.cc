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

}  // namespace
}  // namespace causeway::model
