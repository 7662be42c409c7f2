// Proxy -> Listeners and RouteConfigurations (one per port) plus the clusters
// they need; domain -> proxyless gRPC api_listener.
#include <map>
#include <set>

#include "common/status.h"
#include "common/strings.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "xds/translate_internal.h"

namespace causeway::xds {
namespace {

using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

constexpr char kHttpConnectionManagerName[] = "envoy.filters.network.http_connection_manager";
constexpr char kRouterName[] = "envoy.filters.http.router";

std::string ListenerName(std::string_view proxy, uint32_t port) { return StrCat(proxy, ":", port); }

// Envoy treats '.' in stat names as a hierarchy and ':' is awkward in
// Prometheus output; keep the prefix to one readable segment.
std::string StatPrefix(std::string_view name) {
  std::string prefix(name);
  for (char& c : prefix) {
    if (c == '.' || c == ':') c = '_';
  }
  return prefix;
}

// The proxy's domains grouped by port (ports ascending, domains by name).
absl::StatusOr<std::map<uint32_t, std::vector<const model::Domain*>>> DomainsByPort(
    const ZoneIndex& zone, const model::Proxy& proxy) {
  std::map<uint32_t, std::map<std::string, const model::Domain*>> by_port;
  for (size_t i = 0; i < proxy.domains.size(); ++i) {
    const model::Domain* domain = zone.FindDomain(proxy.domains[i]);
    if (domain == nullptr) {
      return absl::FailedPreconditionError(StrCat("Proxy \"", proxy.name, "\": domains[", i,
                                                  "]: Domain \"", proxy.domains[i],
                                                  "\" not found"));
    }
    by_port[domain->port][domain->Name()] = domain;
  }
  std::map<uint32_t, std::vector<const model::Domain*>> out;
  for (const auto& [port, domains] : by_port) {
    for (const auto& [name, domain] : domains) out[port].push_back(domain);
  }
  return out;
}

// Envoy rejects a RouteConfiguration in which two virtual hosts list the same
// name; say which domains collide instead of letting the proxy NACK.
absl::Status CheckUniqueHostNames(const RouteConfiguration& config) {
  std::map<std::string, std::string> owner;  // host name -> virtual host
  for (const auto& vhost : config.virtual_hosts()) {
    for (const std::string& name : vhost.domains()) {
      auto [it, inserted] = owner.emplace(name, vhost.name());
      if (!inserted) {
        return absl::FailedPreconditionError(StrCat("Domains \"", it->second, "\" and \"",
                                                    vhost.name(), "\" both claim host name \"",
                                                    name, "\" on ", config.name()));
      }
    }
  }
  return absl::OkStatus();
}

constexpr int64_t kRequestHeadersTimeoutSeconds = 10;

Listener ProxyListener(std::string_view name, uint32_t port) {
  Listener out;
  out.set_name(std::string(name));
  auto* address = out.mutable_address()->mutable_socket_address();
  address->set_address("0.0.0.0");
  address->set_port_value(port);
  HttpConnectionManager hcm = internal::BaseConnectionManager(StatPrefix(name));
  auto* rds = hcm.mutable_rds();
  rds->set_route_config_name(std::string(name));
  rds->mutable_config_source()->mutable_ads();
  rds->mutable_config_source()->set_resource_api_version(envoy::config::core::v3::V3);
  // Envoy leaves the request headers timeout off; a proxy in front of a
  // shared staging environment must not let a client hold a connection by
  // trickling a head (slowloris), so the hub's listeners set one. 10 s is
  // far above any real client's head time. The stream idle timeout stays
  // at Envoy's default (5 min), which covers bodies and tunnels.
  hcm.mutable_request_headers_timeout()->set_seconds(kRequestHeadersTimeoutSeconds);
  auto* filter = out.add_filter_chains()->add_filters();
  filter->set_name(kHttpConnectionManagerName);
  *filter->mutable_typed_config() = PackDeterministic(hcm);
  return out;
}

absl::StatusOr<const model::Domain*> LookupDomain(const ZoneIndex& zone, std::string_view name) {
  const model::Domain* domain = zone.FindDomain(name);
  if (domain == nullptr) return absl::NotFoundError(StrCat("Domain \"", name, "\" not found"));
  return domain;
}

}  // namespace

namespace internal {

HttpConnectionManager BaseConnectionManager(std::string stat_prefix) {
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(std::move(stat_prefix));
  auto* router = hcm.add_http_filters();
  router->set_name(kRouterName);
  // gRPC requires the typed config, not just the name.
  *router->mutable_typed_config() =
      PackDeterministic(envoy::extensions::filters::http::router::v3::Router());
  return hcm;
}

}  // namespace internal

absl::StatusOr<ProxyResources> TranslateProxy(const ZoneIndex& zone, std::string_view proxy_name) {
  const model::Proxy* proxy = zone.FindProxy(proxy_name);
  if (proxy == nullptr) return absl::NotFoundError(StrCat("Proxy \"", proxy_name, "\" not found"));
  CW_ASSIGN_OR_RETURN(auto by_port, DomainsByPort(zone, *proxy));

  ProxyResources out;
  std::set<std::string> cluster_names;
  for (const auto& [port, domains] : by_port) {
    const std::string name = ListenerName(proxy->name, port);
    out.listeners.push_back(ProxyListener(name, port));
    internal::AddDownstreamTls(domains, &out.listeners.back());
    RouteConfiguration config;
    config.set_name(name);
    for (const model::Domain* domain : domains) {
      CW_ASSIGN_OR_RETURN(*config.add_virtual_hosts(),
                          internal::TranslateVirtualHost(zone, *domain));
      CW_RETURN_IF_ERROR(internal::CollectClusters(zone, *domain, &cluster_names));
    }
    CW_RETURN_IF_ERROR(CheckUniqueHostNames(config));
    out.routes.push_back(std::move(config));
  }
  // "PROXY:80" sorts before "PROXY:8080" but ports are numeric; the contract
  // is sorted by name so that consumers can rely on it.
  auto by_name = [](const auto& a, const auto& b) { return a.name() < b.name(); };
  std::sort(out.listeners.begin(), out.listeners.end(), by_name);
  std::sort(out.routes.begin(), out.routes.end(), by_name);

  for (const std::string& cluster : cluster_names) {  // std::set: sorted
    CW_ASSIGN_OR_RETURN(auto translated, TranslateCluster(zone, cluster));
    out.clusters.push_back(std::move(translated));
    CW_ASSIGN_OR_RETURN(auto endpoints, TranslateEndpoints(zone, cluster));
    out.endpoints.push_back(std::move(endpoints));
  }
  return out;
}

absl::StatusOr<ProxyResources> TranslateProxy(const ZoneView& zone, std::string_view proxy_name) {
  CW_ASSIGN_OR_RETURN(ZoneIndex index, ZoneIndex::Build(zone));
  return TranslateProxy(index, proxy_name);
}

absl::StatusOr<Listener> TranslateApiListener(const ZoneIndex& zone, std::string_view domain_name) {
  CW_ASSIGN_OR_RETURN(const model::Domain* domain, LookupDomain(zone, domain_name));
  const std::string name = domain->Name();
  HttpConnectionManager hcm = internal::BaseConnectionManager(StatPrefix(name));
  RouteConfiguration* config = hcm.mutable_route_config();
  config->set_name(name);
  CW_ASSIGN_OR_RETURN(*config->add_virtual_hosts(), internal::TranslateVirtualHost(zone, *domain));

  Listener out;
  out.set_name(name);
  *out.mutable_api_listener()->mutable_api_listener() = PackDeterministic(hcm);
  return out;
}

absl::StatusOr<Listener> TranslateApiListener(const ZoneView& zone, std::string_view domain_name) {
  CW_ASSIGN_OR_RETURN(ZoneIndex index, ZoneIndex::Build(zone));
  return TranslateApiListener(index, domain_name);
}

absl::StatusOr<std::vector<std::string>> ClustersOfDomain(const ZoneIndex& zone,
                                                          std::string_view domain_name) {
  CW_ASSIGN_OR_RETURN(const model::Domain* domain, LookupDomain(zone, domain_name));
  std::set<std::string> clusters;
  CW_RETURN_IF_ERROR(internal::CollectClusters(zone, *domain, &clusters));
  return std::vector<std::string>(clusters.begin(), clusters.end());
}

}  // namespace causeway::xds
