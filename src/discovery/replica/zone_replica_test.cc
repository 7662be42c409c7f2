#include "discovery/replica/zone_replica.h"

#include <gtest/gtest.h>

#include <atomic>

namespace causeway::discovery {
namespace {

model::Object Make(model::Kind kind, const std::string& name, model::Json spec) {
  model::Object o;
  o.key = model::ObjectKey{kind, "staging", name};
  o.spec = std::move(spec);
  return o;
}

model::Json HostsJson(std::initializer_list<std::string> hosts) {
  model::Json out = model::Json::array();
  for (const auto& h : hosts) out.push_back({{"host", h}, {"port", 8080}, {"metadata", {}}});
  return out;
}

Instances Hosts(std::initializer_list<std::string> hosts) {
  Instances out;
  for (const auto& h : hosts) out.push_back(model::Instance{h, 8080, {}});
  Normalize(out);
  return out;
}

std::map<std::string, std::vector<std::string>> Clusters(const ZoneReplica& replica) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& o : replica.ZoneObjects("staging")) {
    if (o.key.kind != model::Kind::kCluster) continue;
    auto& hosts = out[o.key.name];
    for (const auto& i : o.spec["instances"]) hosts.push_back(i["host"]);
  }
  return out;
}

TEST(ZoneReplicaTest, CollectorsWinForTheirClustersAndAddNewOnes) {
  ZoneReplica replica("staging");
  std::atomic<int> notified{0};
  int id = replica.Subscribe([&](const std::vector<std::string>& zones) {
    EXPECT_EQ(zones, std::vector<std::string>{"staging"});
    ++notified;
  });
  replica.ResetHub({Make(model::Kind::kZone, "staging", model::Json::object()),
                    Make(model::Kind::kCluster, "users", {{"instances", HostsJson({"10.0.0.1"})}}),
                    Make(model::Kind::kCluster, "web", {{"instances", HostsJson({"10.0.1.1"})}})},
                   7);
  EXPECT_TRUE(replica.HasZone("staging"));
  EXPECT_FALSE(replica.HasZone("prod"));
  EXPECT_EQ(replica.hub_revision(), 7);
  EXPECT_EQ(notified.load(), 1);

  replica.SetLocal({{"users", Hosts({"10.0.0.2"})}, {"billing", Hosts({"10.0.2.1"})}});
  EXPECT_EQ(notified.load(), 2);
  EXPECT_EQ(Clusters(replica),
            (std::map<std::string, std::vector<std::string>>{
                {"billing", {"10.0.2.1"}}, {"users", {"10.0.0.2"}}, {"web", {"10.0.1.1"}}}));
  // The same set again is no change.
  replica.SetLocal({{"users", Hosts({"10.0.0.2"})}, {"billing", Hosts({"10.0.2.1"})}});
  EXPECT_EQ(notified.load(), 2);

  // Hub events: the zone object stays first; a deleted cluster the
  // collectors do not report goes away.
  replica.ApplyHub({model::Kind::kCluster, "staging", "web"}, std::nullopt, 8);
  EXPECT_EQ(replica.hub_revision(), 8);
  auto objects = replica.ZoneObjects("staging");
  ASSERT_FALSE(objects.empty());
  EXPECT_EQ(objects.front().key.kind, model::Kind::kZone);
  EXPECT_EQ(Clusters(replica), (std::map<std::string, std::vector<std::string>>{
                                   {"billing", {"10.0.2.1"}}, {"users", {"10.0.0.2"}}}));
  // Other zones' events are ignored.
  model::Object other = Make(model::Kind::kCluster, "x", {{"instances", HostsJson({"1.1.1.1"})}});
  other.key.zone = "prod";
  replica.ApplyHub(other.key, other, 9);
  EXPECT_EQ(replica.hub_revision(), 8);
  EXPECT_TRUE(replica.ZoneObjects("prod").empty());
  replica.Unsubscribe(id);
}

std::map<std::string, int64_t> Stamps(const ZoneReplica& replica) {
  std::map<std::string, int64_t> out;
  auto read = replica.ReadZone("staging", [](const model::ObjectKey&, int64_t) { return false; });
  for (const auto& [key, stamp] : read.stamps) out[model::KeyString(key)] = stamp;
  EXPECT_TRUE(read.objects.empty()) << "nothing was asked for";
  return out;
}

// Stamps let the xDS snapshot reread only what moved: they change exactly
// when an object's content as served changes, whichever layer moved it.
TEST(ZoneReplicaTest, StampsMoveWithContent) {
  ZoneReplica replica("staging");
  auto zone = Make(model::Kind::kZone, "staging", model::Json::object());
  auto users = Make(model::Kind::kCluster, "users", {{"instances", HostsJson({"10.0.0.1"})}});
  auto web = Make(model::Kind::kCluster, "web", {{"instances", HostsJson({"10.0.1.1"})}});
  users.version = 3;
  web.version = 4;
  replica.ResetHub({zone, users, web}, 4);
  auto s0 = Stamps(replica);
  ASSERT_EQ(s0.size(), 3u);

  // Collectors move "users" and add "billing": "web" and the zone keep theirs.
  replica.SetLocal({{"users", Hosts({"10.0.0.2"})}, {"billing", Hosts({"10.0.2.1"})}});
  auto s1 = Stamps(replica);
  ASSERT_EQ(s1.size(), 4u);
  EXPECT_NE(s1["Cluster staging/users"], s0["Cluster staging/users"]);
  EXPECT_EQ(s1["Cluster staging/web"], s0["Cluster staging/web"]);
  EXPECT_EQ(s1["Zone staging"], s0["Zone staging"]);

  // Asking for one object copies only that one, with the collectors' view.
  auto read = replica.ReadZone(
      "staging", [](const model::ObjectKey& key, int64_t) { return key.name == "users"; });
  ASSERT_EQ(read.objects.size(), 1u);
  EXPECT_EQ(read.objects[0].spec["instances"][0]["host"], "10.0.0.2");

  // A relist showing the same versions moves nothing; a new version moves
  // that object only.
  replica.ResetHub({zone, users, web}, 5);
  EXPECT_EQ(Stamps(replica), s1);
  // Same version, other content (a hub restored from a backup): moved.
  auto restored = web;
  restored.spec = {{"instances", HostsJson({"10.0.7.7"})}};
  replica.ResetHub({zone, users, restored}, 5);
  EXPECT_NE(Stamps(replica)["Cluster staging/web"], s1["Cluster staging/web"]);
  replica.ResetHub({zone, users, web}, 5);
  s1 = Stamps(replica);
  web.version = 6;
  replica.ResetHub({zone, users, web}, 6);
  auto s2 = Stamps(replica);
  EXPECT_NE(s2["Cluster staging/web"], s1["Cluster staging/web"]);
  EXPECT_EQ(s2["Cluster staging/users"], s1["Cluster staging/users"]);

  // The collectors dropping "users" brings back the hub's instances: moved.
  replica.SetLocal({{"billing", Hosts({"10.0.2.1"})}});
  auto s3 = Stamps(replica);
  EXPECT_NE(s3["Cluster staging/users"], s2["Cluster staging/users"]);
  EXPECT_EQ(s3["Cluster staging/billing"], s2["Cluster staging/billing"]);
  // A watch event moves its object.
  replica.ApplyHub(users.key, users, 7);
  auto s4 = Stamps(replica);
  EXPECT_NE(s4["Cluster staging/users"], s3["Cluster staging/users"]);

  // UpdateLocal reads only the names it is told moved.
  ClusterSet merged{{"billing", Hosts({"10.0.2.2"})}, {"web", Hosts({"10.0.9.9"})}};
  replica.UpdateLocal(merged, {"billing"});
  auto s5 = Stamps(replica);
  EXPECT_NE(s5["Cluster staging/billing"], s4["Cluster staging/billing"]);
  EXPECT_EQ(s5["Cluster staging/web"], s4["Cluster staging/web"]);
  EXPECT_EQ(Clusters(replica)["web"], std::vector<std::string>{"10.0.1.1"});
  EXPECT_EQ(Clusters(replica)["billing"], std::vector<std::string>{"10.0.2.2"});
  replica.UpdateLocal({}, {"billing"});  // gone from the collectors (and the hub)
  EXPECT_EQ(Clusters(replica).count("billing"), 0u);
}

TEST(ZoneReplicaTest, KeysThatLeaveBothLayersAreForgotten) {
  ZoneReplica replica("staging");
  auto zone = Make(model::Kind::kZone, "staging", model::Json::object());
  replica.ResetHub({zone}, 1);
  int64_t revision = 1;
  // A day of discovery churn: clusters come from the hub and from the
  // collectors and go again; only what is held now stays stamped.
  for (int i = 0; i < 500; ++i) {
    const std::string name = "svc-" + std::to_string(i);
    auto cluster = Make(model::Kind::kCluster, name, {{"instances", HostsJson({"10.0.0.1"})}});
    replica.ApplyHub(cluster.key, cluster, ++revision);
    replica.UpdateLocal({{name, Hosts({"10.0.0.2"})}}, {name});
    replica.ApplyHub(cluster.key, std::nullopt, ++revision);
    EXPECT_EQ(Stamps(replica).count("Cluster staging/" + name), 1u)
        << "the collectors still hold it";
    replica.UpdateLocal({}, {name});
  }
  EXPECT_EQ(replica.stamped_keys(), 1u);  // the zone
  EXPECT_EQ(Stamps(replica).size(), 1u);

  // A relist that drops an object forgets it too; one that comes back is
  // stamped afresh, never with a number a reader may remember.
  auto web = Make(model::Kind::kCluster, "web", {{"instances", HostsJson({"10.0.1.1"})}});
  replica.ResetHub({zone, web}, ++revision);
  const int64_t first = Stamps(replica)["Cluster staging/web"];
  replica.ResetHub({zone}, ++revision);
  EXPECT_EQ(replica.stamped_keys(), 1u);
  replica.ResetHub({zone, web}, ++revision);
  EXPECT_GT(Stamps(replica)["Cluster staging/web"], first);
  EXPECT_EQ(replica.stamped_keys(), 2u);
}

}  // namespace
}  // namespace causeway::discovery
