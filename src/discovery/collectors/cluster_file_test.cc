#include "discovery/collectors/cluster_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/strings.h"

namespace causeway::discovery {
namespace {

using ::testing::HasSubstr;

TEST(ClusterFileTest, ParsesYamlWithBothMetadataForms) {
  auto clusters = ParseClusterFile(R"(
- cluster: users
  instances:
    - host: 10.0.0.2
      port: 8080
      metadata: {stage: prod}
    - host: 10.0.0.1
      port: 8080
      metadata:
        - key: stage
          value: canary
- cluster: empty
)");
  ASSERT_TRUE(clusters.ok()) << clusters.status();
  ASSERT_EQ(clusters->size(), 2u);
  const Instances& users = clusters->at("users");
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].host, "10.0.0.1");  // sorted
  EXPECT_EQ(users[0].metadata.at("stage"), "canary");
  EXPECT_EQ(users[1].metadata.at("stage"), "prod");
  EXPECT_TRUE(clusters->at("empty").empty());
}

TEST(ClusterFileTest, ParsesJson) {
  auto clusters = ParseClusterFile(
      R"([{"cluster": "a", "instances": [{"host": "h", "port": 1, "metadata": {"k": "v"}}]}])");
  ASSERT_TRUE(clusters.ok()) << clusters.status();
  EXPECT_EQ(clusters->at("a").at(0).port, 1u);
}

// The JSON fast path gives what the YAML reader gives for the same document,
// and leaves every other form to it.
TEST(ClusterFileTest, CanonicalJsonReadsLikeYaml) {
  const char* json = R"([
    {"cluster": "users", "instances": [
      {"host": "10.0.0.2", "port": 8080, "metadata": {"stage": "prod", "zone": "b"}},
      {"host": "10.0.0.1", "port": 8080},
      {"host": "10.0.0.1", "port": 8080}]},
    {"cluster": "empty"},
    {"cluster": "users", "instances": [{"host": "10.0.0.3", "port": 9090, "metadata": null}]}])";
  const char* yaml = R"(
- cluster: users
  instances:
    - {host: 10.0.0.2, port: 8080, metadata: {stage: prod, zone: b}}
    - {host: 10.0.0.1, port: 8080}
    - {host: 10.0.0.1, port: 8080}
- cluster: empty
- cluster: users
  instances: [{host: 10.0.0.3, port: 9090}]
)";
  auto fast = ParseCanonicalJson(json);
  ASSERT_TRUE(fast.has_value());
  auto slow = ParseClusterFile(yaml);
  ASSERT_TRUE(slow.ok()) << slow.status();
  EXPECT_EQ(*fast, *slow);
  EXPECT_EQ(fast->at("users").size(), 3u);

  // Valid but not canonical: left to the YAML reader, which takes it.
  for (const char* other : {
           R"([{"cluster": "a", "instances": [{"host": "h", "port": "80"}]}])",
           R"([{"cluster": "a", "instances": [{"host": "h", "port": 80, "metadata": {"n": 1}}]}])",
           R"([{"cluster": "a", "instances": [{"host": "h", "port": 80,
                "metadata": [{"key": "k", "value": "v"}]}]}])",
       }) {
    EXPECT_FALSE(ParseCanonicalJson(other).has_value()) << other;
    auto parsed = ParseClusterFile(other);
    ASSERT_TRUE(parsed.ok()) << other << ": " << parsed.status();
    EXPECT_EQ(parsed->at("a").size(), 1u);
  }
  // Invalid JSON documents still get the YAML reader's located errors.
  auto bad = ParseClusterFile(R"([{"cluster": "a", "instances": [{"host": "h", "port": 70000}]}])");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(FromAbsl(bad.status().message())),
              HasSubstr("[0].instances[0].port: must be 1..65535"));
  EXPECT_THAT(std::string(FromAbsl(bad.status().message())), HasSubstr("line 1"));
  EXPECT_FALSE(ParseCanonicalJson(R"([{"cluster": "Bad_Name"}])").has_value());
  EXPECT_FALSE(ParseCanonicalJson(R"([{"cluster": "a", "extra": 1}])").has_value());
  EXPECT_FALSE(ParseCanonicalJson(R"([{"cluster": "a", "instances": [{"port": 1}]}])").has_value());
}

TEST(ClusterFileTest, EmptyFileIsEmptySet) {
  auto clusters = ParseClusterFile("");
  ASSERT_TRUE(clusters.ok());
  EXPECT_TRUE(clusters->empty());
}

TEST(ClusterFileTest, MergesRepeatedClusters) {
  auto clusters = ParseClusterFile(R"(
- {cluster: a, instances: [{host: x, port: 1}]}
- {cluster: a, instances: [{host: y, port: 1}, {host: x, port: 1}]}
)");
  ASSERT_TRUE(clusters.ok());
  EXPECT_EQ(clusters->at("a").size(), 2u);
}

TEST(ClusterFileTest, ErrorsNameLineAndField) {
  auto bad_port =
      ParseClusterFile("- cluster: a\n  instances:\n    - host: x\n      port: 70000\n");
  ASSERT_FALSE(bad_port.ok());
  EXPECT_THAT(std::string(FromAbsl(bad_port.status().message())),
              HasSubstr("line 4, column 13: [0].instances[0].port: must be 1..65535"));

  auto unknown = ParseClusterFile("- cluster: a\n  instance: []\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(FromAbsl(unknown.status().message())),
              HasSubstr("line 2, column 3: [0].instance: unknown field"));

  auto bad_name = ParseClusterFile("- cluster: Not_Valid\n");
  ASSERT_FALSE(bad_name.ok());
  EXPECT_THAT(std::string(FromAbsl(bad_name.status().message())), HasSubstr("[0].cluster"));

  auto syntax = ParseClusterFile("- cluster: a\n  instances: [\n");
  ASSERT_FALSE(syntax.ok());
  EXPECT_THAT(std::string(FromAbsl(syntax.status().message())), HasSubstr("line "));

  auto not_list = ParseClusterFile("cluster: a\n");
  ASSERT_FALSE(not_list.ok());
  EXPECT_THAT(std::string(FromAbsl(not_list.status().message())), HasSubstr("list of clusters"));
}

}  // namespace
}  // namespace causeway::discovery
