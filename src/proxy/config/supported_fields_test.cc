#include "proxy/config/supported_fields.h"

#include <functional>

#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/proxy/test_protos.h"
#include "support/xds/translate_test_util.h"

// VirtualHost.cors and WeightedCluster.total_weight are deprecated, and still
// sent by control planes: the tests set them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace causeway::proxy {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using ::testing::HasSubstr;
using testing::ParseText;
using FieldsHcm =
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

// The HTTP connection manager as the hub writes it: RDS over ADS, the router.
FieldsHcm FieldsGoodHcm() {
  return ParseText<FieldsHcm>(R"pb(
    stat_prefix: "edge_80"
    codec_type: HTTP1
    rds {
      route_config_name: "edge:80"
      config_source {
        ads {}
        resource_api_version: V3
      }
    }
    http_filters {
      name: "envoy.filters.http.router"
      typed_config {
        [type.googleapis.com/envoy.extensions.filters.http.router.v3.Router] {}
      }
    }
    stream_idle_timeout { seconds: 30 }
    request_headers_timeout { seconds: 5 }
  )pb");
}

Listener FieldsListenerWith(const FieldsHcm& hcm) {
  auto l = ParseText<Listener>(R"pb(
    name: "edge:80"
    stat_prefix: "edge"
    address { socket_address { address: "0.0.0.0" port_value: 80 } }
    filter_chains {
      name: "http"
      filters { name: "envoy.filters.network.http_connection_manager" }
    }
  )pb");
  l.mutable_filter_chains(0)->mutable_filters(0)->mutable_typed_config()->PackFrom(hcm);
  return l;
}

// Every route field build_config reads, once.
constexpr char kFieldsGoodRoutes[] = R"pb(
  name: "edge:80"
  request_headers_to_add {
    header { key: "x-a" value: "1" }
    append_action: ADD_IF_ABSENT
  }
  response_headers_to_remove: "server"
  virtual_hosts {
    name: "app"
    domains: [ "app.test", "app.test:80" ]
    retry_policy {
      retry_on: "5xx"
      num_retries { value: 2 }
    }
    response_headers_to_add {
      header { key: "x-b" raw_value: "2" }
      append { value: true }
    }
    routes {
      name: "api"
      match {
        prefix: "/api"
        case_sensitive { value: false }
        headers {
          name: ":method"
          string_match { safe_regex { regex: "GET|HEAD" } }
        }
        headers {
          name: "x-range"
          range_match { start: 1 end: 9 }
          invert_match: true
        }
        headers { name: "x-old" exact_match: "v" }
        query_parameters { name: "q" present_match: true }
        query_parameters {
          name: "r"
          string_match { prefix: "a" ignore_case: true }
        }
      }
      route {
        weighted_clusters {
          clusters {
            name: "api"
            weight { value: 3 }
          }
          clusters {
            name: "api"
            weight { value: 1 }
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
          total_weight { value: 4 }
        }
        prefix_rewrite: "/v2"
        host_rewrite_literal: "api.internal"
        timeout { seconds: 2 }
        retry_policy {
          retry_on: "connect-failure,reset"
          num_retries { value: 1 }
          per_try_timeout { nanos: 500000000 }
        }
      }
    }
    routes {
      match {
        safe_regex {
          google_re2 {}
          regex: "/h.*"
        }
      }
      direct_response {
        status: 200
        body { inline_string: "ok" }
      }
    }
  }
)pb";

RouteConfiguration FieldsGoodRoutes() { return ParseText<RouteConfiguration>(kFieldsGoodRoutes); }

// An EDS cluster with subsets as the hub writes it, and a STRICT_DNS one.
Cluster FieldsGoodCluster() {
  return ParseText<Cluster>(R"pb(
    name: "api"
    type: EDS
    eds_cluster_config {
      eds_config {
        ads {}
        resource_api_version: V3
      }
      service_name: "api"
    }
    connect_timeout { seconds: 5 }
    lb_policy: LEAST_REQUEST
    least_request_lb_config { choice_count { value: 3 } }
    lb_subset_config {
      fallback_policy: NO_FALLBACK
      subset_selectors { keys: "stage" }
    }
  )pb");
}

ClusterLoadAssignment FieldsGoodAssignment() {
  return ParseText<ClusterLoadAssignment>(R"pb(
    cluster_name: "api"
    endpoints {
      locality { zone: "a" }
      load_balancing_weight { value: 1 }
      lb_endpoints {
        endpoint {
          address { socket_address { address: "127.0.0.1" port_value: 8080 } }
          hostname: "api-1"
        }
        health_status: HEALTHY
        load_balancing_weight { value: 2 }
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
    }
  )pb");
}

TEST(SupportedFieldsTest, TablesNameRealFieldsAndValues) {
  EXPECT_TRUE(CheckSupportedFieldTables().ok()) << CheckSupportedFieldTables();
}

TEST(SupportedFieldsTest, ConfigurationsOfImplementedFieldsPass) {
  EXPECT_TRUE(CheckSupportedFields("listener 'edge:80'", FieldsListenerWith(FieldsGoodHcm())).ok())
      << CheckSupportedFields("listener 'edge:80'", FieldsListenerWith(FieldsGoodHcm()));
  EXPECT_TRUE(CheckSupportedFields("route_configuration 'edge:80'", FieldsGoodRoutes()).ok())
      << CheckSupportedFields("route_configuration 'edge:80'", FieldsGoodRoutes());
  EXPECT_TRUE(CheckSupportedFields("cluster 'api'", FieldsGoodCluster()).ok())
      << CheckSupportedFields("cluster 'api'", FieldsGoodCluster());
  EXPECT_TRUE(CheckSupportedFields("cluster_load_assignment 'api'", FieldsGoodAssignment()).ok())
      << CheckSupportedFields("cluster_load_assignment 'api'", FieldsGoodAssignment());
  auto dns = ParseText<Cluster>(R"pb(
    name: "dns"
    type: STRICT_DNS
    dns_refresh_rate { seconds: 1 }
    dns_lookup_family: V4_ONLY
    alt_stat_name: "dns_cluster"
    load_assignment {
      cluster_name: "dns"
      endpoints {
        lb_endpoints {
          endpoint { address { socket_address { address: "svc.test" port_value: 80 } } }
        }
      }
    }
  )pb");
  EXPECT_TRUE(CheckSupportedFields("cluster 'dns'", dns).ok())
      << CheckSupportedFields("cluster 'dns'", dns);
}

// One refused field: how to set it on a good resource, and the message.
template <typename Proto>
struct FieldsRefusal {
  const char* field;
  std::function<void(Proto&)> set;
  std::string message;
};

template <typename Proto>
void ExpectFieldsRefused(const std::string& where, const Proto& good,
                         const std::vector<FieldsRefusal<Proto>>& cases) {
  for (const auto& c : cases) {
    Proto p = good;
    c.set(p);
    absl::Status s = CheckSupportedFields(where, p);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message)) << c.field;
  }
}

TEST(SupportedFieldsTest, ListenerFieldsNotImplementedAreRefusedByPath) {
  using L = Listener;
  ExpectFieldsRefused<L>(
      "listener 'edge:80'", FieldsListenerWith(FieldsGoodHcm()),
      {
          {"ListenerFilter.typed_config (proxy protocol)",
           [](L& l) {
             l.add_listener_filters()->mutable_typed_config()->set_type_url(
                 "type.googleapis.com/"
                 "envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol");
           },
           "listener 'edge:80': listener_filters[0].typed_config of type "
           "envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol is not supported"},
          {"DownstreamTlsContext.session_timeout",
           [](L& l) {
             envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext tls;
             tls.mutable_session_timeout()->set_seconds(5);
             l.mutable_filter_chains(0)
                 ->mutable_transport_socket()
                 ->mutable_typed_config()
                 ->PackFrom(tls);
           },
           "listener 'edge:80': filter_chains[0].transport_socket.typed_config.session_timeout "
           "is not supported by causeway-proxy"},
          {"FilterChainMatch.destination_port",
           [](L& l) {
             l.mutable_filter_chains(0)
                 ->mutable_filter_chain_match()
                 ->mutable_destination_port()
                 ->set_value(443);
           },
           "listener 'edge:80': filter_chains[0].filter_chain_match.destination_port is not "
           "supported"},
          {"Address.pipe", [](L& l) { l.mutable_address()->mutable_pipe()->set_path("/p"); },
           "listener 'edge:80': address.pipe is not supported"},
          {"Filter.typed_config TcpProxy",
           [](L& l) {
             l.mutable_filter_chains(0)->mutable_filters(0)->mutable_typed_config()->set_type_url(
                 "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
           },
           "filter_chains[0].filters[0].typed_config of type "
           "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy is not supported"},
          {"unknown field",
           [](L& l) { l.GetReflection()->MutableUnknownFields(&l)->AddVarint(9999, 1); },
           "listener 'edge:80': field number 9999 (unknown to this build's Envoy API) is not "
           "supported"},
      });
}

// The HTTP connection manager is checked inside the listener's typed_config.
TEST(SupportedFieldsTest, ConnectionManagerFieldsNotImplementedAreRefusedByPath) {
  const std::string hcm_path = "listener 'edge:80': filter_chains[0].filters[0].typed_config.";
  struct HcmCase {
    const char* field;
    std::function<void(FieldsHcm&)> set;
    std::string message;
  };
  auto rbac = [](FieldsHcm& h, bool optional) {
    auto* f = h.add_http_filters();
    f->set_name("envoy.filters.http.rbac");
    f->mutable_typed_config()->set_type_url(
        "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC");
    f->set_is_optional(optional);
    h.mutable_http_filters()->SwapElements(0, h.http_filters_size() - 1);  // before the router
  };
  std::vector<HcmCase> cases = {
      {"unknown http filter", [&](FieldsHcm& h) { rbac(h, false); },
       hcm_path + "http_filters[0] (http filter 'envoy.filters.http.rbac', "
                  "envoy.extensions.filters.http.rbac.v3.RBAC) is not supported by causeway-proxy"},
      {"router not last", [](FieldsHcm& h) { *h.add_http_filters() = h.http_filters(0); },
       hcm_path + "http_filters[0]: the router must be the last http filter"},
      {"router option",
       [](FieldsHcm& h) {
         envoy::extensions::filters::http::router::v3::Router router;
         router.set_suppress_envoy_headers(true);
         h.mutable_http_filters(0)->mutable_typed_config()->PackFrom(router);
       },
       hcm_path + "http_filters[0].typed_config.suppress_envoy_headers is not supported"},
      {"codec_type HTTP3", [](FieldsHcm& h) { h.set_codec_type(FieldsHcm::HTTP3); },
       hcm_path + "codec_type HTTP3 is not supported by causeway-proxy (only AUTO, HTTP1, HTTP2)"},
      {"use_remote_address", [](FieldsHcm& h) { h.mutable_use_remote_address()->set_value(true); },
       hcm_path + "use_remote_address is not supported"},
      {"upgrade_configs", [](FieldsHcm& h) { h.add_upgrade_configs()->set_upgrade_type("x"); },
       hcm_path + "upgrade_configs is not supported"},
      {"config_source.initial_fetch_timeout",
       [](FieldsHcm& h) {
         h.mutable_rds()->mutable_config_source()->mutable_initial_fetch_timeout()->set_seconds(1);
       },
       hcm_path + "rds.config_source.initial_fetch_timeout is not supported"},
      {"unknown field",
       [](FieldsHcm& h) { h.GetReflection()->MutableUnknownFields(&h)->AddVarint(4242, 1); },
       "listener 'edge:80': filter_chains[0].filters[0].typed_config: field number 4242"},
  };
  for (const auto& c : cases) {
    FieldsHcm hcm = FieldsGoodHcm();
    c.set(hcm);
    absl::Status s = CheckSupportedFields("listener 'edge:80'", FieldsListenerWith(hcm));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message)) << c.field;
  }
  // An optional filter is one the control plane lets a client go without.
  FieldsHcm optional = FieldsGoodHcm();
  rbac(optional, true);
  EXPECT_TRUE(CheckSupportedFields("listener 'edge:80'", FieldsListenerWith(optional)).ok());
}

TEST(SupportedFieldsTest, RouteFieldsNotImplementedAreRefusedByPath) {
  using R = RouteConfiguration;
  const std::string route = "route_configuration 'edge:80': virtual_hosts[0].routes[0].";
  ExpectFieldsRefused<R>(
      "route_configuration 'edge:80'", FieldsGoodRoutes(),
      {
          {"VirtualHost.cors", [](R& r) { r.mutable_virtual_hosts(0)->mutable_cors(); },
           "route_configuration 'edge:80': virtual_hosts[0].cors is not supported by "
           "causeway-proxy"},
          {"VirtualHost.typed_per_filter_config",
           [](R& r) {
             (*r.mutable_virtual_hosts(0)->mutable_typed_per_filter_config())["a"].set_type_url(
                 "x/y");
           },
           "virtual_hosts[0].typed_per_filter_config is not supported"},
          {"RouteAction.hash_policy",
           [](R& r) {
             r.mutable_virtual_hosts(0)->mutable_routes(0)->mutable_route()->add_hash_policy();
           },
           route + "route.hash_policy is not supported by causeway-proxy"},
          {"RouteAction.request_mirror_policies",
           [](R& r) {
             r.mutable_virtual_hosts(0)
                 ->mutable_routes(0)
                 ->mutable_route()
                 ->add_request_mirror_policies()
                 ->set_cluster("shadow");
           },
           "routes[0].route.request_mirror_policies is not supported"},
          {"RetryPolicy.retry_back_off",
           [](R& r) {
             r.mutable_virtual_hosts(0)
                 ->mutable_routes(0)
                 ->mutable_route()
                 ->mutable_retry_policy()
                 ->mutable_retry_back_off()
                 ->mutable_base_interval()
                 ->set_seconds(1);
           },
           "routes[0].route.retry_policy.retry_back_off is not supported"},
          {"RouteMatch.runtime_fraction",
           [](R& r) {
             r.mutable_virtual_hosts(0)
                 ->mutable_routes(0)
                 ->mutable_match()
                 ->mutable_runtime_fraction();
           },
           "routes[0].match.runtime_fraction is not supported"},
          {"Route.redirect",
           [](R& r) {
             r.mutable_virtual_hosts(0)->mutable_routes(1)->mutable_redirect()->set_host_redirect(
                 "a.test");
           },
           "virtual_hosts[0].routes[1].redirect is not supported"},
          {"WeightedCluster.total_weight not the sum",
           [](R& r) {
             r.mutable_virtual_hosts(0)
                 ->mutable_routes(0)
                 ->mutable_route()
                 ->mutable_weighted_clusters()
                 ->mutable_total_weight()
                 ->set_value(100);
           },
           "routes[0].route.weighted_clusters.total_weight 100 is not the sum of the clusters' "
           "weights (4)"},
          {"DataSource.filename",
           [](R& r) {
             r.mutable_virtual_hosts(0)
                 ->mutable_routes(1)
                 ->mutable_direct_response()
                 ->mutable_body()
                 ->set_filename("/etc/passwd");
           },
           "routes[1].direct_response.body.filename is not supported"},
      });
}

using HttpProtocolOptionsForFields = envoy::extensions::upstreams::http::v3::HttpProtocolOptions;

void SetFieldsProtocolOptions(Cluster& c, const HttpProtocolOptionsForFields& options) {
  (*c.mutable_typed_extension_protocol_options())
      ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
          .PackFrom(options);
}

TEST(SupportedFieldsTest, HttpProtocolOptionsTheProxyImplementsPass) {
  HttpProtocolOptionsForFields h2;
  h2.mutable_explicit_http_config()
      ->mutable_http2_protocol_options()
      ->mutable_max_concurrent_streams()
      ->set_value(10);
  HttpProtocolOptionsForFields h1;
  h1.mutable_explicit_http_config()->mutable_http_protocol_options();
  HttpProtocolOptionsForFields automatic;
  automatic.mutable_auto_config()->mutable_http_protocol_options();
  automatic.mutable_auto_config()->mutable_http2_protocol_options();
  for (const auto& options : {h2, h1, automatic}) {
    Cluster c = FieldsGoodCluster();
    SetFieldsProtocolOptions(c, options);
    absl::Status s = CheckSupportedFields("cluster 'api'", c);
    EXPECT_TRUE(s.ok()) << s << " for " << options.ShortDebugString();
  }
}

TEST(SupportedFieldsTest, ClusterFieldsNotImplementedAreRefusedByPath) {
  using C = Cluster;
  // A TLS field the proxy does not implement.
  auto tls = [](C& c) {
    envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext ctx;
    ctx.set_allow_renegotiation(true);
    c.mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
    c.mutable_transport_socket()->mutable_typed_config()->PackFrom(ctx);
  };
  ExpectFieldsRefused<C>(
      "cluster 'api'", FieldsGoodCluster(),
      {
          {"UpstreamTlsContext.allow_renegotiation", tls,
           "cluster 'api': transport_socket.typed_config.allow_renegotiation is not supported by "
           "causeway-proxy"},
          {"Cluster.transport_socket_matches",
           [](C& c) { c.add_transport_socket_matches()->set_name("tls"); },
           "cluster 'api': transport_socket_matches is not supported by causeway-proxy"},
          {"Cluster.typed_extension_protocol_options of another type",
           [](C& c) {
             (*c.mutable_typed_extension_protocol_options())
                 ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
                     .set_type_url("x/y");
           },
           "cluster 'api': typed_extension_protocol_options[0].value of type y is not supported"},
          {"Http2ProtocolOptions.hpack_table_size",
           [](C& c) {
             HttpProtocolOptionsForFields options;
             options.mutable_explicit_http_config()
                 ->mutable_http2_protocol_options()
                 ->mutable_hpack_table_size()
                 ->set_value(0);
             SetFieldsProtocolOptions(c, options);
           },
           "cluster 'api': typed_extension_protocol_options[0].value.explicit_http_config."
           "http2_protocol_options.hpack_table_size is not supported"},
          {"HttpProtocolOptions.common_http_protocol_options",
           [](C& c) {
             HttpProtocolOptionsForFields options;
             options.mutable_common_http_protocol_options()->mutable_idle_timeout()->set_seconds(1);
             SetFieldsProtocolOptions(c, options);
           },
           "typed_extension_protocol_options[0].value.common_http_protocol_options is not "
           "supported"},
          {"AutoHttpConfig.http3_protocol_options",
           [](C& c) {
             HttpProtocolOptionsForFields options;
             options.mutable_auto_config()->mutable_http3_protocol_options();
             SetFieldsProtocolOptions(c, options);
           },
           "typed_extension_protocol_options[0].value.auto_config.http3_protocol_options is not "
           "supported"},
          {"Cluster.lb_subset_config.fallback_policy ANY_ENDPOINT",
           [](C& c) {
             c.mutable_lb_subset_config()->set_fallback_policy(
                 Cluster::LbSubsetConfig::ANY_ENDPOINT);
           },
           "cluster 'api': lb_subset_config.fallback_policy ANY_ENDPOINT is not supported by "
           "causeway-proxy (only NO_FALLBACK)"},
          {"Cluster.lb_subset_config.default_subset",
           [](C& c) { c.mutable_lb_subset_config()->mutable_default_subset()->mutable_fields(); },
           "cluster 'api': lb_subset_config.default_subset is not supported"},
          {"Cluster.common_lb_config", [](C& c) { c.mutable_common_lb_config(); },
           "cluster 'api': common_lb_config is not supported"},
          {"LeastRequestLbConfig.active_request_bias",
           [](C& c) {
             c.mutable_least_request_lb_config()->mutable_active_request_bias()->set_default_value(
                 1);
           },
           "least_request_lb_config.active_request_bias is not supported"},
          {"ConfigSource.api_config_source",
           [](C& c) {
             c.mutable_eds_cluster_config()->mutable_eds_config()->mutable_api_config_source();
           },
           "cluster 'api': eds_cluster_config.eds_config.api_config_source is not supported"},
          // Refused until the proxy implements them (then they join the table).
          {"HealthCheck.no_traffic_interval",
           [](C& c) { c.add_health_checks()->mutable_no_traffic_interval()->set_seconds(5); },
           "cluster 'api': health_checks[0].no_traffic_interval is not supported"},
          {"HealthCheck.tcp_health_check",
           [](C& c) { c.add_health_checks()->mutable_tcp_health_check(); },
           "cluster 'api': health_checks[0].tcp_health_check is not supported"},
          {"OutlierDetection.success_rate_minimum_hosts",
           [](C& c) {
             c.mutable_outlier_detection()->mutable_success_rate_minimum_hosts()->set_value(3);
           },
           "cluster 'api': outlier_detection.success_rate_minimum_hosts is not supported"},
          {"CircuitBreakers.per_host_thresholds",
           [](C& c) { c.mutable_circuit_breakers()->add_per_host_thresholds(); },
           "cluster 'api': circuit_breakers.per_host_thresholds is not supported"},
          {"unknown field",
           [](C& c) { c.GetReflection()->MutableUnknownFields(&c)->AddVarint(7777, 1); },
           "cluster 'api': field number 7777"},
      });
}

TEST(SupportedFieldsTest, EndpointFieldsNotImplementedAreRefusedByPath) {
  using A = ClusterLoadAssignment;
  ExpectFieldsRefused<A>(
      "cluster_load_assignment 'api'", FieldsGoodAssignment(),
      {
          {"ClusterLoadAssignment.policy",
           [](A& a) { a.mutable_policy()->mutable_overprovisioning_factor()->set_value(140); },
           "cluster_load_assignment 'api': policy is not supported by causeway-proxy"},
          {"LocalityLbEndpoints.priority", [](A& a) { a.mutable_endpoints(0)->set_priority(1); },
           "cluster_load_assignment 'api': endpoints[0].priority is not supported"},
          {"Endpoint.health_check_config",
           [](A& a) {
             a.mutable_endpoints(0)
                 ->mutable_lb_endpoints(0)
                 ->mutable_endpoint()
                 ->mutable_health_check_config()
                 ->set_port_value(9);
           },
           "endpoints[0].lb_endpoints[0].endpoint.health_check_config is not supported"},
      });
}

// The check runs for every resource BuildConfig is given, and leaves the
// proxyless gRPC listeners (api_listener) alone as BuildConfig does.
TEST(SupportedFieldsTest, BuildConfigRefusesAndSkipsApiListeners) {
  Cluster tls = FieldsGoodCluster();
  envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext context;
  context.set_allow_renegotiation(true);
  tls.mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
  tls.mutable_transport_socket()->mutable_typed_config()->PackFrom(context);
  auto built = BuildConfig({FieldsListenerWith(FieldsGoodHcm())}, {FieldsGoodRoutes()}, {tls},
                           {FieldsGoodAssignment()});
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.status().message(),
            "cluster 'api': transport_socket.typed_config.allow_renegotiation is not supported by "
            "causeway-proxy");

  Listener api;
  api.set_name("grpc.test:50051");
  api.mutable_api_listener()->mutable_api_listener()->set_type_url("x/y");
  built = BuildConfig({FieldsListenerWith(FieldsGoodHcm()), api}, {FieldsGoodRoutes()},
                      {FieldsGoodCluster()}, {FieldsGoodAssignment()});
  EXPECT_TRUE(built.ok()) << built.status();
}

// What the hub translates from a zone using every feature of its objects is
// accepted: the hub's own proxies are never NACKed.
TEST(SupportedFieldsTest, EverythingTheHubTranslatesIsAccepted) {
  using xds::testing::Target;
  xds::testing::ZoneBuilder zone;
  zone.AddProxy("edge", {"app.test:80"});
  zone.AddDomain("app.test", 80, {"www.app.test", "app.*"});
  auto& group = zone.AddGroup("main", {Target("blue", 3), Target("green", 1, {{"stage", "b"}})});
  group.retry_policy = model::RetryPolicy{2, 100, 1000};
  model::Rule rule;
  rule.methods = {"GET", "HEAD"};
  rule.matches = {{"header", "x-user", "a", "prefix"},
                  {"query", "q", "", "present"},
                  {"cookie", "session", "x.*", "regex"}};
  rule.targets = {Target("green")};
  group.rules.push_back(rule);
  auto& route = zone.AddRoute("root", "app.test:80", "/", "main");
  route.timeout_ms = 5000;
  zone.AddCluster("blue", {{"127.0.0.1", 8080, {}, 2}});
  zone.AddCluster("green", {{"127.0.0.1", 8081, {{"stage", "b"}}}});
  auto resources = xds::TranslateProxy(zone.View(), "edge");
  ASSERT_TRUE(resources.ok()) << resources.status();
  ASSERT_FALSE(resources->clusters.empty());
  EXPECT_TRUE(resources->clusters[1].has_lb_subset_config()) << "the zone uses subsets";
  auto built = BuildConfig(resources->listeners, resources->routes, resources->clusters,
                           resources->endpoints);
  EXPECT_TRUE(built.ok()) << built.status();

  auto api = xds::TranslateApiListener(zone.View(), "app.test:80");
  ASSERT_TRUE(api.ok()) << api.status();
  built = BuildConfig({*api}, {}, {}, {});
  EXPECT_TRUE(built.ok()) << built.status();
}

}  // namespace
}  // namespace causeway::proxy

#pragma GCC diagnostic pop
