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

TEST(BuildConfigTest, EndpointWeights) {
  auto cluster = ParseText<Cluster>(R"pb(
    name: "w"
    type: STATIC
    load_assignment {
      endpoints {
        lb_endpoints {
          endpoint { address { socket_address { address: "10.0.0.1" port_value: 80 } } }
          load_balancing_weight { value: 3 }
        }
        lb_endpoints {
          endpoint { address { socket_address { address: "10.0.0.2" port_value: 80 } } }
        }
      }
    }
  )pb");
  auto built = BuildCluster(cluster, nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_EQ((*built)->endpoints.size(), 2u);
  EXPECT_EQ((*built)->endpoints[0].weight, 3u);
  EXPECT_EQ((*built)->endpoints[1].weight, 1u);  // unset: 1

  // Envoy's bounds: at least 1, and a locality's sum within 32 bits.
  Cluster zero = cluster;
  zero.mutable_load_assignment()
      ->mutable_endpoints(0)
      ->mutable_lb_endpoints(1)
      ->mutable_load_balancing_weight()
      ->set_value(0);
  EXPECT_THAT(std::string(BuildCluster(zero, nullptr).status().message()),
              HasSubstr("cluster 'w': load_assignment.endpoints[0].lb_endpoints[1]"
                        ".load_balancing_weight: must be at least 1"));
  Cluster huge = cluster;
  for (int i = 0; i < 2; ++i) {
    huge.mutable_load_assignment()
        ->mutable_endpoints(0)
        ->mutable_lb_endpoints(i)
        ->mutable_load_balancing_weight()
        ->set_value(3000000000u);
  }
  EXPECT_THAT(std::string(BuildCluster(huge, nullptr).status().message()),
              HasSubstr("cluster 'w': load_assignment.endpoints[0]: the sum"));
}

TEST(BuildConfigTest, DiscoveryTypeAndDnsSettings) {
  auto built = [](const std::string& text) {
    return BuildCluster(ParseText<Cluster>(text), nullptr);
  };
  auto eds = built(R"pb(name: "e" type: EDS)pb");
  ASSERT_TRUE(eds.ok());
  EXPECT_EQ((*eds)->discovery, ClusterConfig::Discovery::kEds);
  auto logical = built(R"pb(name: "l" type: LOGICAL_DNS)pb");
  ASSERT_TRUE(logical.ok());
  EXPECT_EQ((*logical)->discovery, ClusterConfig::Discovery::kLogicalDns);
  auto plain = built(R"pb(name: "s" type: STATIC)pb");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->discovery, ClusterConfig::Discovery::kStatic);

  auto strict = built(R"pb(name: "d" type: STRICT_DNS)pb");
  ASSERT_TRUE(strict.ok()) << strict.status();
  EXPECT_EQ((*strict)->discovery, ClusterConfig::Discovery::kStrictDns);
  EXPECT_EQ((*strict)->dns_refresh_rate.count(), 5000);  // Envoy's default
  EXPECT_EQ((*strict)->dns_family, ClusterConfig::DnsFamily::kAuto);

  auto tuned = built(R"pb(name: "d"
                          type: STRICT_DNS
                          dns_refresh_rate { nanos: 250000000 }
                          dns_lookup_family: V4_ONLY)pb");
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_EQ((*tuned)->dns_refresh_rate.count(), 250);
  EXPECT_EQ((*tuned)->dns_family, ClusterConfig::DnsFamily::kV4Only);
  for (auto [name, family] : std::vector<std::pair<std::string, ClusterConfig::DnsFamily>>{
           {"V6_ONLY", ClusterConfig::DnsFamily::kV6Only},
           {"V4_PREFERRED", ClusterConfig::DnsFamily::kV4Preferred},
           {"ALL", ClusterConfig::DnsFamily::kAll},
           {"AUTO", ClusterConfig::DnsFamily::kAuto}}) {
    auto c = built("name: \"d\" type: STRICT_DNS dns_lookup_family: " + name);
    ASSERT_TRUE(c.ok()) << name << ": " << c.status();
    EXPECT_EQ((*c)->dns_family, family) << name;
  }

  auto too_fast = built(R"pb(name: "d"
                             type: STRICT_DNS
                             dns_refresh_rate { nanos: 1000000 })pb");
  EXPECT_THAT(std::string(too_fast.status().message()),
              HasSubstr("cluster 'd'.dns_refresh_rate: must be greater than 1 ms"));
}

TEST(BuildConfigTest, HttpHealthCheck) {
  auto built = BuildCluster(ParseText<Cluster>(R"pb(
                              name: "api"
                              type: EDS
                              health_checks {
                                timeout { nanos: 250000000 }
                                interval { seconds: 2 }
                                interval_jitter { nanos: 100000000 }
                                healthy_threshold { value: 2 }
                                unhealthy_threshold { value: 3 }
                                http_health_check {
                                  path: "/healthz?deep=1"
                                  host: "api.internal"
                                  expected_statuses { start: 200 end: 300 }
                                  expected_statuses { start: 404 end: 405 }
                                }
                              }
                            )pb"),
                            nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_TRUE((*built)->health_check.has_value());
  const HealthCheckConfig& hc = *(*built)->health_check;
  EXPECT_EQ(hc.path, "/healthz?deep=1");
  EXPECT_EQ(hc.host, "api.internal");
  EXPECT_EQ(hc.timeout.count(), 250);
  EXPECT_EQ(hc.interval.count(), 2000);
  EXPECT_EQ(hc.interval_jitter.count(), 100);
  EXPECT_EQ(hc.healthy_threshold, 2u);
  EXPECT_EQ(hc.unhealthy_threshold, 3u);
  EXPECT_EQ(hc.expected_statuses,
            (std::vector<std::pair<uint32_t, uint32_t>>{{200, 300}, {404, 405}}));

  // Envoy's default: only 200 passes; no host means the cluster's name.
  auto plain = BuildCluster(ParseText<Cluster>(R"pb(
                              name: "api"
                              type: EDS
                              health_checks {
                                timeout { seconds: 1 }
                                interval { seconds: 1 }
                                healthy_threshold { value: 1 }
                                unhealthy_threshold { value: 1 }
                                http_health_check { path: "/" }
                              }
                            )pb"),
                            nullptr);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)->health_check->expected_statuses,
            (std::vector<std::pair<uint32_t, uint32_t>>{{200, 201}}));
  EXPECT_EQ((*plain)->health_check->host, "");
  EXPECT_EQ((*plain)->health_check->interval_jitter.count(), 0);

  auto none = BuildCluster(ParseText<Cluster>(R"pb(name: "api" type: EDS)pb"), nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE((*none)->health_check.has_value());
}

TEST(BuildConfigTest, HealthCheckErrorsNameTheField) {
  const std::string good_head = R"pb(
    timeout { seconds: 1 }
    interval { seconds: 1 }
    healthy_threshold { value: 1 }
    unhealthy_threshold { value: 1 }
  )pb";
  auto error = [](const std::string& health_checks) {
    auto c = BuildCluster(ParseText<Cluster>("name: \"api\" type: EDS " + health_checks), nullptr);
    return c.ok() ? std::string("accepted") : std::string(c.status().message());
  };
  const std::string http = R"pb(http_health_check { path: "/h" })pb";
  EXPECT_THAT(
      error("health_checks {" + good_head + http + "} health_checks {" + good_head + http + "}"),
      HasSubstr("cluster 'api'.health_checks: has 2 entries"));
  EXPECT_THAT(error("health_checks {" + good_head + "tcp_health_check {} }"),
              HasSubstr("cluster 'api'.health_checks[0]: only http_health_check is supported"));
  EXPECT_THAT(error("health_checks {" + good_head + R"txt(grpc_health_check {} })txt"),
              HasSubstr("only http_health_check is supported"));
  EXPECT_THAT(
      error("health_checks {" + good_head + http + R"txt(no_traffic_interval { seconds: 5 } })txt"),
      HasSubstr("health_checks[0].no_traffic_interval: is not supported"));
  EXPECT_THAT(
      error(
          "health_checks {" + good_head +
          R"txt(http_health_check { path: "/h" retriable_statuses { start: 500 end: 501 } } })txt"),
      HasSubstr("health_checks[0].http_health_check.retriable_statuses: is not supported"));
  EXPECT_THAT(error(R"pb(health_checks {
                           interval { seconds: 1 }
                           healthy_threshold { value: 1 }
                           unhealthy_threshold { value: 1 }
                           http_health_check { path: "/h" }
                         })pb"),
              HasSubstr("health_checks[0].timeout: is required"));
  EXPECT_THAT(error(R"pb(health_checks {
                           timeout { seconds: 1 }
                           interval { seconds: 1 }
                           healthy_threshold { value: 0 }
                           unhealthy_threshold { value: 1 }
                           http_health_check { path: "/h" }
                         })pb"),
              HasSubstr("health_checks[0].healthy_threshold: must be at least 1"));
  EXPECT_THAT(error(R"pb(health_checks {
                           timeout { seconds: 1 }
                           interval { seconds: 1 }
                           healthy_threshold { value: 1 }
                           http_health_check { path: "/h" }
                         })pb"),
              HasSubstr("health_checks[0].unhealthy_threshold: is required"));
  EXPECT_THAT(error("health_checks {" + good_head + R"txt(http_health_check { path: "h" } })txt"),
              HasSubstr("health_checks[0].http_health_check.path: must start with '/', got \"h\""));
  EXPECT_THAT(
      error("health_checks {" + good_head + R"txt(http_health_check { path: "/a b" } })txt"),
      HasSubstr("http_health_check.path: character ' ' is not allowed in a request target"));
  EXPECT_THAT(error("health_checks {" + good_head +
                    R"txt(http_health_check { path: "/h" host: "a\r\nx: y" } })txt"),
              HasSubstr("http_health_check.host: contains CR/LF"));
  EXPECT_THAT(
      error(
          "health_checks {" + good_head +
          R"txt(http_health_check { path: "/h" expected_statuses { start: 300 end: 200 } } })txt"),
      HasSubstr("http_health_check.expected_statuses[0]: [300, 200) is not a range"));
}

TEST(BuildConfigTest, OutlierDetectionWithEnvoyDefaults) {
  auto built = BuildCluster(ParseText<Cluster>(R"pb(
                              name: "api"
                              type: EDS
                              outlier_detection {
                                consecutive_5xx { value: 3 }
                                consecutive_gateway_failure { value: 2 }
                                enforcing_consecutive_gateway_failure { value: 100 }
                                interval { seconds: 1 }
                                base_ejection_time { nanos: 500000000 }
                                max_ejection_time { seconds: 4 }
                                max_ejection_percent { value: 34 }
                                always_eject_one_host { value: true }
                                enforcing_success_rate { value: 0 }
                              }
                            )pb"),
                            nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_TRUE((*built)->outlier_detection.has_value());
  const OutlierDetectionConfig& od = *(*built)->outlier_detection;
  EXPECT_EQ(od.consecutive_5xx, 3u);
  EXPECT_EQ(od.consecutive_gateway_failure, 2u);
  EXPECT_TRUE(od.enforcing_consecutive_5xx);
  EXPECT_TRUE(od.enforcing_consecutive_gateway_failure);
  EXPECT_EQ(od.interval.count(), 1000);
  EXPECT_EQ(od.base_ejection_time.count(), 500);
  EXPECT_EQ(od.max_ejection_time.count(), 4000);
  EXPECT_EQ(od.max_ejection_percent, 34u);
  EXPECT_TRUE(od.always_eject_one_host);

  auto empty = BuildCluster(ParseText<Cluster>(R"pb(name: "api"
                                                    type: EDS
                                                    outlier_detection {})pb"),
                            nullptr);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*(*empty)->outlier_detection, OutlierDetectionConfig{});
  EXPECT_EQ((*empty)->outlier_detection->consecutive_5xx, 5u);
  EXPECT_FALSE((*empty)->outlier_detection->enforcing_consecutive_gateway_failure);
  EXPECT_EQ((*empty)->outlier_detection->max_ejection_time.count(), 300000);

  // The cap is never below the base (Envoy's rule).
  auto capped = BuildCluster(ParseText<Cluster>(R"pb(
                               name: "api"
                               type: EDS
                               outlier_detection { base_ejection_time { seconds: 400 } }
                             )pb"),
                             nullptr);
  ASSERT_TRUE(capped.ok()) << capped.status();
  EXPECT_EQ((*capped)->outlier_detection->max_ejection_time.count(), 400000);

  auto none = BuildCluster(ParseText<Cluster>(R"pb(name: "api" type: EDS)pb"), nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE((*none)->outlier_detection.has_value());
}

TEST(BuildConfigTest, CircuitBreakersDefaultPriorityOnly) {
  auto built = BuildCluster(ParseText<Cluster>(R"pb(
                              name: "api"
                              type: EDS
                              circuit_breakers {
                                thresholds {
                                  max_connections { value: 10 }
                                  max_pending_requests { value: 20 }
                                  max_requests { value: 30 }
                                  max_retries { value: 0 }
                                }
                              }
                            )pb"),
                            nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ((*built)->circuit_breakers, (CircuitBreakerConfig{10, 20, 30, 0}));
  // Envoy's defaults apply to every cluster.
  auto none = BuildCluster(ParseText<Cluster>(R"pb(name: "api" type: EDS)pb"), nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ((*none)->circuit_breakers, (CircuitBreakerConfig{1024, 1024, 1024, 3}));
  EXPECT_FALSE((*none)->circuit_breakers.retry_budget.has_value());
}

TEST(BuildConfigTest, RetryBudgetWithEnvoysDefaults) {
  auto built = BuildCluster(ParseText<Cluster>(R"pb(
                              name: "api"
                              type: EDS
                              circuit_breakers { thresholds { retry_budget {} } }
                            )pb"),
                            nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_TRUE((*built)->circuit_breakers.retry_budget.has_value());
  EXPECT_EQ((*built)->circuit_breakers.retry_budget->budget_percent, 20.0);
  EXPECT_EQ((*built)->circuit_breakers.retry_budget->min_retry_concurrency, 3u);
  auto bad = BuildCluster(
      ParseText<Cluster>(R"pb(
        name: "api"
        type: EDS
        circuit_breakers { thresholds { retry_budget { budget_percent { value: 150 } } } }
      )pb"),
      nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("retry_budget.budget_percent"), std::string::npos)
      << bad.status();
}

TEST(BuildConfigTest, OutlierAndBreakerErrorsNameTheField) {
  auto error = [](const std::string& fields) {
    auto c = BuildCluster(ParseText<Cluster>("name: \"api\" type: EDS " + fields), nullptr);
    return c.ok() ? std::string("accepted") : std::string(c.status().message());
  };
  EXPECT_THAT(error("outlier_detection { success_rate_minimum_hosts { value: 3 } }"),
              HasSubstr("cluster 'api'.outlier_detection.success_rate_minimum_hosts: is not "
                        "supported"));
  EXPECT_THAT(error("outlier_detection { split_external_local_origin_errors: true }"),
              HasSubstr("outlier_detection.split_external_local_origin_errors: is not supported"));
  EXPECT_THAT(error("outlier_detection { enforcing_consecutive_5xx { value: 50 } }"),
              HasSubstr("outlier_detection.enforcing_consecutive_5xx: is 50; this proxy "
                        "implements only 0 (never) and 100 (always)"));
  EXPECT_THAT(error("outlier_detection { enforcing_success_rate { value: 100 } }"),
              HasSubstr("outlier_detection.enforcing_success_rate: is 100"));
  EXPECT_THAT(error("outlier_detection { consecutive_5xx { value: 0 } }"),
              HasSubstr("outlier_detection.consecutive_5xx: must be at least 1"));
  EXPECT_THAT(error("outlier_detection { max_ejection_percent { value: 101 } }"),
              HasSubstr("outlier_detection.max_ejection_percent: is 101; must be at most 100"));
  EXPECT_THAT(error("outlier_detection { base_ejection_time { seconds: 0 } }"),
              HasSubstr("outlier_detection.base_ejection_time: must be at least 1 ms"));
  EXPECT_THAT(error("circuit_breakers { thresholds { priority: HIGH max_requests { value: 1 } } }"),
              HasSubstr("cluster 'api'.circuit_breakers.thresholds[0].priority: is HIGH; this "
                        "proxy has no request priorities, only DEFAULT"));
  EXPECT_THAT(error("circuit_breakers { thresholds { } thresholds { } }"),
              HasSubstr("circuit_breakers.thresholds[1]: a second DEFAULT threshold"));
  EXPECT_THAT(error("circuit_breakers { thresholds { track_remaining: true } }"),
              HasSubstr("circuit_breakers.thresholds[0].track_remaining: is not supported"));
  EXPECT_THAT(error("circuit_breakers { per_host_thresholds { } }"),
              HasSubstr("circuit_breakers.per_host_thresholds: is not supported"));
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

// A route configuration "edge:8080" whose third route carries `route_text`
// (the fields of one Route) and whose virtual host carries `vhost_text`.
RouteConfiguration EdgeRoutes(const std::string& route_text, const std::string& vhost_text = "",
                              const std::string& config_text = "") {
  return ParseText<RouteConfiguration>(
      R"pb(
        name: "edge:8080"
      )pb" +
      config_text + R"txt(virtual_hosts { name: "v" domains: "*")txt" + vhost_text +
      R"txt(routes { match { path: "/a" } route { cluster: "c" } } routes { match { path: "/b" } route { cluster: "c" } } routes {)txt" +
      route_text + R"txt(} })txt");
}

std::string NackOf(const RouteConfiguration& config) {
  auto s = BuildConfig({}, {config}, {}, {});
  if (s.ok()) return "accepted";
  return std::string(s.status().message());
}

TEST(BuildConfigTest, ConfiguredHeaderValuesMayNotSplitAMessage) {
  const std::string route = R"pb(
    match { prefix: "/" }
    route { cluster: "c" }
  )pb";
  // The exact path, down to the field, and the resource.
  EXPECT_EQ(NackOf(EdgeRoutes(route + R"pb(
              request_headers_to_add { header { key: "x-a" value: "1\r\nx-injected: 1" } }
            )pb")),
            "route_configuration 'edge:8080': virtual_hosts[0].routes[2]"
            ".request_headers_to_add[0].header.value: contains CR/LF");
  EXPECT_THAT(NackOf(EdgeRoutes(route + R"pb(
                response_headers_to_add { header { key: "x-a" value: "ok" } }
                response_headers_to_add { header { key: "x-b" value: "1\nx: 2" } }
              )pb")),
              HasSubstr("routes[2].response_headers_to_add[1].header.value: contains CR/LF"));
  EXPECT_THAT(NackOf(EdgeRoutes(route, R"pb(
                request_headers_to_add { header { key: "x-a" value: "a\rb" } }
              )pb")),
              HasSubstr("virtual_hosts[0].request_headers_to_add[0].header.value: contains CR/LF"));
  EXPECT_THAT(NackOf(EdgeRoutes(route, "", R"pb(
                response_headers_to_add { header { key: "x-a" value: "a\000b" } }
              )pb")),
              HasSubstr("route_configuration 'edge:8080'.response_headers_to_add[0].header.value: "
                        "contains NUL"));
  EXPECT_THAT(NackOf(EdgeRoutes(route + R"pb(
                request_headers_to_add { header { key: "x-a" value: "a\001b" } }
              )pb")),
              HasSubstr("header.value: contains control character 0x01"));
  EXPECT_THAT(NackOf(EdgeRoutes(route + R"pb(
                request_headers_to_add { header { key: "x-a" value: "a\177" } }
              )pb")),
              HasSubstr("header.value: contains control character 0x7f"));
  EXPECT_THAT(NackOf(EdgeRoutes(route + R"pb(
                request_headers_to_add { header { key: "x-a" value: " padded" } }
              )pb")),
              HasSubstr("header.value: has leading or trailing whitespace"));
  EXPECT_THAT(NackOf(EdgeRoutes(route + R"pb(
                request_headers_to_add { header { key: "x-a" value: "padded\t" } }
              )pb")),
              HasSubstr("header.value: has leading or trailing whitespace"));
  // raw_value is written as the value, so it is held to the same rules.
  EXPECT_THAT(NackOf(EdgeRoutes(route + R"pb(
                response_headers_to_add { header { key: "x-a" raw_value: "1\r\n\r\nbody" } }
              )pb")),
              HasSubstr("routes[2].response_headers_to_add[0].header.raw_value: contains CR/LF"));
  EXPECT_THAT(NackOf(EdgeRoutes(route + R"pb(
                response_headers_to_add { header { key: "x-a" value: "1" raw_value: "2" } }
              )pb")),
              HasSubstr("response_headers_to_add[0].header: only one of value and raw_value"));
}

TEST(BuildConfigTest, ConfiguredHeaderNamesAreTokens) {
  const std::string route = R"pb(
    match { prefix: "/" }
    route { cluster: "c" }
  )pb";
  EXPECT_THAT(NackOf(EdgeRoutes(route + R"pb(
                request_headers_to_add { header { key: "x-a\r\nx-b" value: "1" } }
              )pb")),
              HasSubstr("routes[2].request_headers_to_add[0].header.key: header name "
                        "\"x-a\\r\\nx-b\" is not a token"));
  EXPECT_THAT(NackOf(EdgeRoutes(route, R"pb(
                response_headers_to_add { header { key: "x a" value: "1" } }
              )pb")),
              HasSubstr("virtual_hosts[0].response_headers_to_add[0].header.key: header name "
                        "\"x a\" is not a token"));
  EXPECT_THAT(NackOf(EdgeRoutes(route + R"pb(
                request_headers_to_add { header { key: "x-a:" value: "1" } }
              )pb")),
              HasSubstr("request_headers_to_add[0].header.key: header name \"x-a:\""));
  EXPECT_THAT(NackOf(EdgeRoutes(route + R"pb(
                request_headers_to_add { header { key: "" value: "1" } }
              )pb")),
              HasSubstr("request_headers_to_add[0].header.key: is empty"));
  EXPECT_THAT(NackOf(EdgeRoutes(route + R"pb(
                response_headers_to_remove: "x-ok"
                response_headers_to_remove: "x-a\nx-b"
              )pb")),
              HasSubstr("routes[2].response_headers_to_remove[1]: header name \"x-a\\nx-b\""));
  EXPECT_THAT(NackOf(EdgeRoutes(route, "", R"pb(
                request_headers_to_remove: "x(a)"
              )pb")),
              HasSubstr("route_configuration 'edge:8080'.request_headers_to_remove[0]: header "
                        "name \"x(a)\" is not a token"));
}

TEST(BuildConfigTest, RewritesMayNotSplitTheUpstreamRequest) {
  EXPECT_EQ(NackOf(EdgeRoutes(R"pb(
              match { prefix: "/" }
              route { cluster: "c" host_rewrite_literal: "b.internal\r\nx-injected: 1" }
            )pb")),
            "route_configuration 'edge:8080': virtual_hosts[0].routes[2].route"
            ".host_rewrite_literal: contains CR/LF");
  EXPECT_THAT(NackOf(EdgeRoutes(R"pb(
                match { prefix: "/" }
                route { cluster: "c" host_rewrite_literal: "b internal" }
              )pb")),
              HasSubstr("routes[2].route.host_rewrite_literal: character ' ' is not allowed in a "
                        "host"));
  EXPECT_THAT(NackOf(EdgeRoutes(R"pb(
                match { prefix: "/old" }
                route { cluster: "c" prefix_rewrite: "/new HTTP/1.1\r\nx: 1\r\n\r\nGET /" }
              )pb")),
              HasSubstr("routes[2].route.prefix_rewrite: character ' ' is not allowed in a "
                        "request target"));
  EXPECT_THAT(NackOf(EdgeRoutes(R"pb(
                match { prefix: "/old" }
                route { cluster: "c" prefix_rewrite: "/new\r\n" }
              )pb")),
              HasSubstr("routes[2].route.prefix_rewrite: contains CR/LF"));
}

TEST(BuildConfigTest, InlineRouteConfigurationIsCheckedToo) {
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  *hcm.mutable_route_config() = EdgeRoutes(R"pb(
    match { prefix: "/" }
    route { cluster: "c" }
    response_headers_to_add { header { key: "x-a" value: "1\r\nset-cookie: s=1" } }
  )pb");
  Listener l;
  l.set_name("edge");
  l.mutable_address()->mutable_socket_address()->set_address("127.0.0.1");
  l.add_filter_chains()->add_filters()->mutable_typed_config()->PackFrom(hcm);
  auto s = BuildConfig({l}, {}, {}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("route_configuration 'edge:8080': virtual_hosts[0].routes[2]"
                        ".response_headers_to_add[0].header.value: contains CR/LF"));
}

TEST(BuildConfigTest, ValidConfiguredHeadersAndRewritesAreKept) {
  auto config = EdgeRoutes(R"pb(
    match { prefix: "/old/" }
    route { cluster: "c" prefix_rewrite: "/new/~a%20b?x=1" host_rewrite_literal: "[::1]:8080" }
    request_headers_to_add { header { key: "X-Tab" value: "a\tb c" } }
    request_headers_to_add { header { key: "x-obs" value: "caf\303\251" } }
    request_headers_to_add { header { key: "x-raw" raw_value: "bytes" } }
    request_headers_to_add { header { key: "x-empty" value: "" } }
    request_headers_to_add { header { key: "!#$%&'*+-.^_`|~09az" value: "t" } }
    request_headers_to_remove: "X-Secret"
  )pb");
  auto table = BuildRouteTable(config);
  ASSERT_TRUE(table.ok()) << table.status();
  const Route& r = (*table)->virtual_hosts[0].routes[2];
  EXPECT_EQ(*r.prefix_rewrite, "/new/~a%20b?x=1");
  EXPECT_EQ(r.host_rewrite, "[::1]:8080");
  ASSERT_EQ(r.request_headers.add.size(), 5u);
  EXPECT_EQ(r.request_headers.add[0].name, "x-tab");
  EXPECT_EQ(r.request_headers.add[0].value, "a\tb c");
  EXPECT_EQ(r.request_headers.add[1].value, "caf\xc3\xa9");
  EXPECT_EQ(r.request_headers.add[2].value, "bytes");
  EXPECT_EQ(r.request_headers.add[3].value, "");
  EXPECT_EQ(r.request_headers.remove, std::vector<std::string>{"x-secret"});
}

// typed_extension_protocol_options: the protocol to the endpoints.
absl::StatusOr<std::shared_ptr<const ClusterConfig>> BuildProtocolCluster(bool tls,
                                                                          const std::string& opts) {
  std::string text = "name: 'api' type: EDS\n";
  if (tls) {
    text +=
        "transport_socket { name: 'envoy.transport_sockets.tls' typed_config { "
        "[type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext] {} "
        "} }\n";
  }
  text +=
      "typed_extension_protocol_options { key: "
      "'envoy.extensions.upstreams.http.v3.HttpProtocolOptions' value { "
      "[type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { " +
      opts + " } } }";
  return BuildCluster(ParseText<Cluster>(text), nullptr);
}

TEST(BuildConfigTest, UpstreamProtocolFromHttpProtocolOptions) {
  auto none = BuildCluster(ParseText<Cluster>(R"pb(name: "api" type: EDS)pb"), nullptr);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ((*none)->protocol, ClusterConfig::Protocol::kHttp1);

  auto h2 = BuildProtocolCluster(
      false,
      "explicit_http_config { http2_protocol_options { max_concurrent_streams { value: 9 } } }");
  ASSERT_TRUE(h2.ok()) << h2.status();
  EXPECT_EQ((*h2)->protocol, ClusterConfig::Protocol::kHttp2);
  EXPECT_EQ((*h2)->max_concurrent_streams, 9u);

  auto h1 = BuildProtocolCluster(false, "explicit_http_config { http_protocol_options {} }");
  ASSERT_TRUE(h1.ok()) << h1.status();
  EXPECT_EQ((*h1)->protocol, ClusterConfig::Protocol::kHttp1);

  const std::string automatic =
      "auto_config { http_protocol_options {} http2_protocol_options {} }";
  auto with_tls = BuildProtocolCluster(true, automatic);
  ASSERT_TRUE(with_tls.ok()) << with_tls.status();
  EXPECT_EQ((*with_tls)->protocol, ClusterConfig::Protocol::kAuto);

  auto clear = BuildProtocolCluster(false, automatic);
  EXPECT_THAT(std::string(clear.status().message()),
              HasSubstr("cluster 'api': typed_extension_protocol_options.auto_config: needs a TLS "
                        "transport_socket"));
  auto zero = BuildProtocolCluster(
      false, "explicit_http_config { http2_protocol_options { max_concurrent_streams {} } }");
  EXPECT_THAT(std::string(zero.status().message()),
              HasSubstr("http2_protocol_options.max_concurrent_streams: must be positive"));
}

}  // namespace
}  // namespace causeway::proxy
