#include "proxy/config/build_config.h"

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/proxy/test_protos.h"

namespace causeway::proxy {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using ::testing::HasSubstr;
using testing::ParseText;

Listener MakeListener(const std::string& name, int port, const std::string& rds) {
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  hcm.set_stat_prefix(name);
  hcm.mutable_rds()->set_route_config_name(rds);
  Listener l;
  l.set_name(name);
  l.mutable_address()->mutable_socket_address()->set_address("127.0.0.1");
  l.mutable_address()->mutable_socket_address()->set_port_value(port);
  auto* f = l.add_filter_chains()->add_filters();
  f->set_name("envoy.filters.network.http_connection_manager");
  f->mutable_typed_config()->PackFrom(hcm);
  return l;
}

TEST(BuildConfigTest, BuildsCompleteSnapshot) {
  auto routes = ParseText<RouteConfiguration>(R"pb(
    name: "web:80"
    virtual_hosts {
      name: "vh"
      domains: [ "example.com", "example.com:80", "*.example.com" ]
      routes {
        match { prefix: "/api" }
        route {
          weighted_clusters {
            clusters {
              name: "api"
              weight { value: 90 }
            }
            clusters {
              name: "api"
              weight { value: 10 }
              metadata_match {
                filter_metadata {
                  key: "envoy.lb"
                  value {
                    fields {
                      key: "stage"
                      value { string_value: "canary" }
                    }
                  }
                }
              }
            }
          }
          timeout { seconds: 2 }
          retry_policy {
            retry_on: "5xx,connect-failure"
            num_retries { value: 3 }
          }
          prefix_rewrite: "/v2"
        }
      }
      routes {
        match { path: "/health" }
        direct_response {
          status: 200
          body { inline_string: "ok" }
        }
      }
    }
  )pb");
  auto cluster = ParseText<Cluster>(R"pb(
    name: "api"
    type: EDS
    lb_policy: LEAST_REQUEST
    connect_timeout { nanos: 250000000 }
    eds_cluster_config { service_name: "api" }
  )pb");
  auto cla = ParseText<ClusterLoadAssignment>(R"pb(
    cluster_name: "api"
    endpoints {
      lb_endpoints {
        endpoint { address { socket_address { address: "127.0.0.1" port_value: 8080 } } }
        metadata {
          filter_metadata {
            key: "envoy.lb"
            value {
              fields {
                key: "stage"
                value { string_value: "canary" }
              }
            }
          }
        }
      }
      lb_endpoints {
        endpoint { address { socket_address { address: "127.0.0.2" port_value: 8080 } } }
        health_status: UNHEALTHY
      }
    }
  )pb");
  auto snap = BuildConfig({MakeListener("web:80", 0, "web:80")}, {routes}, {cluster}, {cla});
  ASSERT_TRUE(snap.ok()) << snap.status();
  const ProxyConfig& c = **snap;
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].route_config_name, "web:80");
  const RouteTable* t = c.RoutesFor(c.listeners[0]);
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->virtual_hosts.size(), 1u);
  const Route& r = t->virtual_hosts[0].routes[0];
  EXPECT_EQ(r.total_weight, 100u);
  ASSERT_EQ(r.clusters.size(), 2u);
  EXPECT_EQ(r.clusters[1].metadata_match.size(), 1u);
  EXPECT_EQ(r.timeout.count(), 2000);
  EXPECT_EQ(r.retry.num_retries, 3u);
  EXPECT_TRUE(r.retry.on_5xx);
  EXPECT_TRUE(r.retry.on_connect_failure);
  EXPECT_FALSE(r.retry.on_reset);
  EXPECT_EQ(*r.prefix_rewrite, "/v2");
  EXPECT_EQ(t->virtual_hosts[0].routes[1].action, Route::Action::kDirectResponse);
  const ClusterConfig* cl = c.FindCluster("api");
  ASSERT_NE(cl, nullptr);
  EXPECT_EQ(cl->lb_policy, ClusterConfig::LbPolicy::kLeastRequest);
  EXPECT_EQ(cl->connect_timeout.count(), 250);
  ASSERT_EQ(cl->endpoints.size(), 2u);
  EXPECT_TRUE(cl->endpoints[0].healthy);
  EXPECT_FALSE(cl->endpoints[1].healthy);
  EXPECT_EQ(cl->endpoints[0].metadata[0].second, "canary");
}

TEST(BuildConfigTest, EdsClusterWithoutAssignmentHasNoEndpoints) {
  auto cluster = ParseText<Cluster>(R"pb(name: "a" type: EDS)pb");
  auto snap = BuildConfig({}, {}, {cluster}, {});
  ASSERT_TRUE(snap.ok());
  EXPECT_TRUE((*snap)->FindCluster("a")->endpoints.empty());
}

TEST(BuildConfigTest, PreciseErrors) {
  auto bad_regex = ParseText<RouteConfiguration>(R"pb(
    name: "r"
    virtual_hosts {
      name: "v"
      domains: "x"
      routes {
        match { safe_regex { regex: "(" } }
        route { cluster: "c" }
      }
    }
  )pb");
  auto s = BuildConfig({}, {bad_regex}, {}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("route_configuration 'r': virtual_hosts[0].routes[0].match.safe_regex"));

  auto dup_domain = ParseText<RouteConfiguration>(R"pb(
    name: "r"
    virtual_hosts { name: "a" domains: "x.com" }
    virtual_hosts { name: "b" domains: "X.com" }
  )pb");
  s = BuildConfig({}, {dup_domain}, {}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("virtual_hosts[1].domains[0]"));

  auto zero_weight = ParseText<RouteConfiguration>(R"pb(
    name: "r"
    virtual_hosts {
      name: "a"
      domains: "*"
      routes {
        match { prefix: "/" }
        route {
          weighted_clusters {
            clusters {
              name: "c"
              weight { value: 0 }
            }
          }
        }
      }
    }
  )pb");
  s = BuildConfig({}, {zero_weight}, {}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("total weight"));

  auto ring_hash = ParseText<Cluster>(R"pb(name: "c" lb_policy: RING_HASH)pb");
  s = BuildConfig({}, {}, {ring_hash}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("cluster 'c'.lb_policy"));

  auto bad_port = ParseText<Cluster>(R"pb(
    name: "c"
    type: STATIC
    load_assignment {
      endpoints { lb_endpoints { endpoint { address { socket_address { address: "1.2.3.4" } } } } }
    }
  )pb");
  s = BuildConfig({}, {}, {bad_port}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("load_assignment.endpoints[0].lb_endpoints[0].port_value"));

  Listener no_hcm;
  no_hcm.set_name("l");
  no_hcm.mutable_address()->mutable_socket_address()->set_address("127.0.0.1");
  no_hcm.add_filter_chains();
  s = BuildConfig({no_hcm}, {}, {}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("listener 'l'"));

  s = BuildConfig({MakeListener("a", 8080, "r"), MakeListener("b", 8080, "r")}, {}, {}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("used by another listener"));
}

}  // namespace
}  // namespace causeway::proxy
