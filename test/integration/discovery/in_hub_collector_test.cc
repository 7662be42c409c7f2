// `causeway serve --collector SPEC --collector-zone Z`: collectors running
// inside the real hub write the zone's clusters through the catalog, recorded
// in the change log as "collector"; bad collector flags stop the hub with a
// clear message and a non-zero exit.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "hub_fixture.h"
#include "support/process.h"

namespace causeway::discovery {
namespace {

using causeway::testing::Api;
using causeway::testing::HubProcess;
using causeway::testing::Json;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using std::chrono::seconds;

void WriteFile(const TempDir& dir, const std::string& path, const std::string& text) {
  const std::string tmp = dir.File(".clusters.tmp");
  std::ofstream(tmp, std::ios::trunc) << text;
  std::rename(tmp.c_str(), path.c_str());
}

std::vector<std::string> Hosts(Api& api, const std::string& zone, const std::string& cluster) {
  auto result = api.Get("/v1/zones/" + zone + "/clusters/" + cluster);
  std::vector<std::string> hosts;
  if (result.status != 200) return hosts;
  for (const Json& i : result.body.value("instances", Json::array())) hosts.push_back(i["host"]);
  std::sort(hosts.begin(), hosts.end());
  return hosts;
}

TEST(InHubCollectorTest, FileCollectorWritesThroughTheCatalog) {
  TempDir files;
  const std::string path = files.File("clusters.yaml");
  WriteFile(files, path, "- cluster: web\n  instances: [{host: 10.0.0.1, port: 8080}]\n");
  HubProcess hub;
  ASSERT_NO_FATAL_FAILURE(
      hub.Start({"--collector", "file:" + path, "--collector-zone", "staging"}));
  Api admin(hub.url(), hub.admin_token());

  // The zone does not exist yet: the collector's writes fail and are retried
  // until it does.
  ASSERT_EQ(admin.Post("/v1/zones", Json{{"name", "staging"}}).status, 201);
  ASSERT_TRUE(WaitFor(
      [&] { return Hosts(admin, "staging", "web") == std::vector<std::string>{"10.0.0.1"}; },
      seconds(30)))
      << hub.Log();

  WriteFile(files, path,
            "- cluster: web\n  instances: [{host: 10.0.0.2, port: 8080}, {host: 10.0.0.3, "
            "port: 8080}]\n- cluster: api\n  instances: [{host: 10.0.1.1, port: 9090}]\n");
  ASSERT_TRUE(WaitFor([&] {
    return Hosts(admin, "staging", "web") == std::vector<std::string>{"10.0.0.2", "10.0.0.3"} &&
           Hosts(admin, "staging", "api") == std::vector<std::string>{"10.0.1.1"};
  })) << hub.Log();

  // Every cluster write is in the change log under the collector's name.
  auto log = admin.Get("/v1/changelog?zone=staging&kind=Cluster");
  ASSERT_EQ(log.status, 200) << log.raw.body;
  int writes = 0;
  for (const Json& change : log.body["items"]) {
    EXPECT_EQ(change["actor"], "collector") << change.dump();
    ++writes;
  }
  EXPECT_GE(writes, 3);  // web created, web updated, api created

  const int status = hub.Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << hub.Log();
}

// The hub refuses to start; returns its exit status and log.
std::pair<int, std::string> FailedStart(const std::vector<std::string>& extra) {
  HubProcess hub;
  hub.Launch(extra);
  const int status = hub.Wait(seconds(30));
  return {status, hub.Log()};
}

TEST(InHubCollectorTest, BadCollectorFlagsStopTheHub) {
  {
    auto [status, log] = FailedStart({"--collector", "ftp:x", "--collector-zone", "staging"});
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << status << "\n" << log;
    EXPECT_NE(log.find("--collector ftp:x"), std::string::npos) << log;
  }
  {
    auto [status, log] = FailedStart({"--collector", "file:/tmp/x.yaml"});
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << status << "\n" << log;
    EXPECT_NE(log.find("--collector-zone"), std::string::npos) << log;
  }
  {
    auto [status, log] = FailedStart({"--collector", "dns:web", "--collector-zone", "staging"});
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << status << "\n" << log;
    EXPECT_NE(log.find("--collector dns:web"), std::string::npos) << log;
  }
}

}  // namespace
}  // namespace causeway::discovery
