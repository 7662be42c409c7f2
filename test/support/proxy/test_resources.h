// Small Envoy resources and responses for the xDS client's tests.
#pragma once

#include <string>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "proxy/xds_client/resources.h"

namespace causeway::proxy::testing {

// A listener on `port` whose HTTP connection manager loads `rds` over ADS.
inline envoy::config::listener::v3::Listener Listener(const std::string& name, int port,
                                                      const std::string& rds) {
  envoy::config::listener::v3::Listener listener;
  listener.set_name(name);
  auto* socket = listener.mutable_address()->mutable_socket_address();
  socket->set_address("0.0.0.0");
  socket->set_port_value(port);
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  hcm.set_stat_prefix(name);
  hcm.mutable_rds()->set_route_config_name(rds);
  hcm.mutable_rds()->mutable_config_source()->mutable_ads();
  auto* filter = listener.add_filter_chains()->add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(hcm);
  return listener;
}

// A route configuration sending every path to `cluster`.
inline envoy::config::route::v3::RouteConfiguration RouteConfig(const std::string& name,
                                                                const std::string& cluster) {
  envoy::config::route::v3::RouteConfiguration config;
  config.set_name(name);
  auto* vhost = config.add_virtual_hosts();
  vhost->set_name("all");
  vhost->add_domains("*");
  auto* route = vhost->add_routes();
  route->mutable_match()->set_prefix("/");
  route->mutable_route()->set_cluster(cluster);
  return config;
}

// An EDS cluster over ADS (`eds` true) or a static one.
inline envoy::config::cluster::v3::Cluster Cluster(const std::string& name, bool eds = true) {
  envoy::config::cluster::v3::Cluster cluster;
  cluster.set_name(name);
  if (eds) {
    cluster.set_type(envoy::config::cluster::v3::Cluster::EDS);
    cluster.mutable_eds_cluster_config()->mutable_eds_config()->mutable_ads();
  } else {
    cluster.set_type(envoy::config::cluster::v3::Cluster::STATIC);
  }
  return cluster;
}

inline envoy::config::endpoint::v3::ClusterLoadAssignment Assignment(const std::string& name,
                                                                     int port) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name(name);
  auto* locality = cla.add_endpoints();
  locality->mutable_load_balancing_weight()->set_value(1);
  auto* socket =
      locality->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
  socket->set_address("127.0.0.1");
  socket->set_port_value(port);
  return cla;
}

template <typename Message>
envoy::service::discovery::v3::DiscoveryResponse Response(XdsType type, const std::string& version,
                                                          const std::string& nonce,
                                                          const std::vector<Message>& resources) {
  envoy::service::discovery::v3::DiscoveryResponse response;
  response.set_type_url(std::string(TypeUrl(type)));
  response.set_version_info(version);
  response.set_nonce(nonce);
  for (const auto& resource : resources) response.add_resources()->PackFrom(resource);
  return response;
}

inline envoy::service::discovery::v3::DiscoveryResponse EmptyResponse(XdsType type,
                                                                      const std::string& version,
                                                                      const std::string& nonce) {
  return Response(type, version, nonce, std::vector<envoy::config::cluster::v3::Cluster>{});
}

}  // namespace causeway::proxy::testing
