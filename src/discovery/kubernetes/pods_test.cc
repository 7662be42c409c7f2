#include "discovery/kubernetes/pods.h"

#include <gtest/gtest.h>

namespace causeway::discovery {
namespace {

using model::Json;

Json Pod(const std::string& phase, bool ready) {
  return Json::parse(R"({
    "metadata": {"name": "users-1", "labels": {"causeway.io/cluster": "users", "app": "users",
                                               "track": "stable"}},
    "spec": {"nodeName": "node-a", "containers": [
      {"name": "app", "ports": [{"name": "metrics", "containerPort": 9090},
                                {"name": "http", "containerPort": 8080}]}]},
    "status": {"phase": ")" +
                     phase + R"(", "podIP": "10.1.2.3", "hostIP": "192.168.0.5",
               "conditions": [{"type": "Ready", "status": ")" +
                     (ready ? "True" : "False") + R"("}]}
  })");
}

TEST(PodsTest, ReadyRunningPodIsAnInstance) {
  auto entry = PodToEntry(Pod("Running", true), PodOptions{});
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->cluster, "users");
  ASSERT_TRUE(entry->instance.has_value());
  EXPECT_EQ(entry->instance->host, "10.1.2.3");
  EXPECT_EQ(entry->instance->port, 8080u);
  const std::map<std::string, std::string> metadata = {
      {"app", "users"}, {"track", "stable"}, {"node_name", "node-a"}, {"host_ip", "192.168.0.5"}};
  EXPECT_EQ(entry->instance->metadata, metadata);
}

TEST(PodsTest, UnreadyPendingOrTerminatingPodsNameTheirClusterOnly) {
  for (const Json& pod : {Pod("Running", false), Pod("Pending", true), [] {
                            Json p = Pod("Running", true);
                            p["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
                            return p;
                          }()}) {
    auto entry = PodToEntry(pod, PodOptions{});
    ASSERT_TRUE(entry.has_value());
    EXPECT_EQ(entry->cluster, "users");
    EXPECT_FALSE(entry->instance.has_value()) << pod.dump();
  }
}

TEST(PodsTest, HostNetworkPodUsesNodeAddress) {
  Json pod = Pod("Running", true);
  pod["spec"]["hostNetwork"] = true;
  auto entry = PodToEntry(pod, PodOptions{});
  ASSERT_TRUE(entry && entry->instance);
  EXPECT_EQ(entry->instance->host, "192.168.0.5");
}

TEST(PodsTest, CustomLabelAndPortName) {
  Json pod = Pod("Running", true);
  pod["metadata"]["labels"]["svc"] = "billing";
  auto entry = PodToEntry(pod, PodOptions{.cluster_label = "svc", .port_name = "metrics"});
  ASSERT_TRUE(entry && entry->instance);
  EXPECT_EQ(entry->cluster, "billing");
  EXPECT_EQ(entry->instance->port, 9090u);
  EXPECT_EQ(entry->instance->metadata.at("causeway.io/cluster"), "users");
}

TEST(PodsTest, NoLabelOrNoPortOrBadName) {
  Json unlabeled = Pod("Running", true);
  unlabeled["metadata"]["labels"].erase("causeway.io/cluster");
  EXPECT_FALSE(PodToEntry(unlabeled, PodOptions{}).has_value());

  auto no_port = PodToEntry(Pod("Running", true), PodOptions{.port_name = "grpc"});
  ASSERT_TRUE(no_port.has_value());
  EXPECT_FALSE(no_port->instance.has_value());

  Json bad = Pod("Running", true);
  bad["metadata"]["labels"]["causeway.io/cluster"] = "Not_A_Name";
  EXPECT_FALSE(PodToEntry(bad, PodOptions{}).has_value());
}

}  // namespace
}  // namespace causeway::discovery
