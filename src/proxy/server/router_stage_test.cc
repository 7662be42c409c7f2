// The router stage decides once: route, mutations, weighted cluster and the
// cluster's configuration, or the local reply.
#include "proxy/server/router_stage.h"

#include <gtest/gtest.h>

#include "proxy/config/build_config.h"
#include "support/proxy/test_protos.h"

namespace causeway::proxy {
namespace {

using envoy::config::route::v3::RouteConfiguration;

class RouterStageTest : public ::testing::Test {
 protected:
  RouterStageTest() {
    auto table = BuildRouteTable(testing::ParseText<RouteConfiguration>(R"pb(
      name: "r"
      virtual_hosts {
        name: "api"
        domains: "api.test"
        routes {
          name: "direct"
          match { path: "/hello" }
          direct_response {
            status: 200
            body { inline_string: "hi" }
          }
        }
        routes {
          name: "split"
          match { prefix: "/split" }
          route {
            weighted_clusters {
              clusters {
                name: "a"
                weight { value: 1 }
              }
              clusters {
                name: "b"
                weight { value: 1 }
              }
            }
          }
        }
        routes {
          name: "missing"
          match { prefix: "/missing" }
          route { cluster: "gone" }
        }
        routes {
          name: "a"
          match { prefix: "/" }
          route { cluster: "a" }
        }
      }
    )pb"));
    EXPECT_TRUE(table.ok()) << table.status();
    config_.routes["r"] = *table;
    for (const char* name : {"a", "b"}) {
      auto c = std::make_shared<ClusterConfig>();
      c->name = name;
      config_.clusters[name] = c;
    }
    listener_.name = "l";
    listener_.route_config_name = "r";
  }
  RouteDecision Decide(std::string_view host, std::string_view path, uint64_t random = 0) {
    head_ = "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
    EXPECT_EQ(http1::ParseRequestHead(head_, &req_).status, http1::ParseStatus::kOk);
    return DecideRoute(&config_, listener_, req_, [&] {
      ++randoms_;
      return random;
    });
  }

  ProxyConfig config_;
  ListenerConfig listener_;
  std::string head_;
  http1::RequestHead req_;
  int randoms_ = 0;
};

TEST_F(RouterStageTest, ForwardCarriesRouteClusterAndMutations) {
  RouteDecision d = Decide("api.test", "/x");
  ASSERT_EQ(d.kind, RouteDecision::Kind::kForward);
  EXPECT_EQ(d.route->name, "a");
  EXPECT_EQ(d.cluster, config_.FindCluster("a"));
  EXPECT_EQ(d.cluster_name, "a");
  EXPECT_EQ(d.request_mutations[0], &d.route->request_headers);
  EXPECT_EQ(d.response_mutations[0], &d.route->response_headers);
  EXPECT_EQ(randoms_, 1) << "one pick among the route's clusters";
}

TEST_F(RouterStageTest, WeightedClustersPickedWithTheRandomGiven) {
  EXPECT_EQ(Decide("api.test", "/split", 0).cluster_name, "a");
  EXPECT_EQ(Decide("api.test", "/split", 1).cluster_name, "b");
}

TEST_F(RouterStageTest, LocalReplies) {
  RouteDecision none = Decide("other.test", "/x");
  EXPECT_EQ(none.kind, RouteDecision::Kind::kLocalReply);
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.flags, "NR");
  EXPECT_EQ(none.route, nullptr);
  RouteDecision gone = Decide("api.test", "/missing");
  EXPECT_EQ(gone.kind, RouteDecision::Kind::kLocalReply);
  EXPECT_EQ(gone.status, 503);
  EXPECT_EQ(gone.flags, "NC");
  EXPECT_EQ(gone.cluster_name, "gone");
  EXPECT_EQ(gone.route->name, "missing");
  listener_.route_config_name = "unknown";
  EXPECT_EQ(Decide("api.test", "/x").body, "no route configuration for this listener\n");
  EXPECT_EQ(DecideRoute(nullptr, listener_, req_, [] { return uint64_t{0}; }).status, 404);
}

TEST_F(RouterStageTest, DirectResponseDrawsNoRandom) {
  RouteDecision d = Decide("api.test", "/hello");
  EXPECT_EQ(d.kind, RouteDecision::Kind::kDirectResponse);
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.body, "hi");
  EXPECT_EQ(randoms_, 0);
}

}  // namespace
}  // namespace causeway::proxy
