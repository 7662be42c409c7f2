#include "proxy/xds_client/resources.h"

#include <google/protobuf/util/json_util.h>

#include "common/strings.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace causeway::proxy {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

constexpr std::string_view kTypeUrls[kXdsTypeCount] = {
    "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
    "type.googleapis.com/envoy.config.listener.v3.Listener",
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
};
constexpr std::string_view kShortNames[kXdsTypeCount] = {"CDS", "EDS", "LDS", "RDS"};

// Adds the RDS name of `any` when it is an HTTP connection manager using RDS.
// A manager that does not unpack is left to the data plane to reject.
void AddRdsName(const google::protobuf::Any& any, std::vector<std::string>& out) {
  if (!any.Is<HttpConnectionManager>()) return;
  HttpConnectionManager hcm;
  if (!any.UnpackTo(&hcm)) return;
  if (hcm.has_rds() && !hcm.rds().route_config_name().empty()) {
    out.push_back(hcm.rds().route_config_name());
  }
}

void AddChainRdsNames(const envoy::config::listener::v3::FilterChain& chain,
                      std::vector<std::string>& out) {
  for (const auto& filter : chain.filters()) {
    if (filter.has_typed_config()) AddRdsName(filter.typed_config(), out);
  }
}

// The union of AddReferencedNames over `map`.
template <typename Map>
std::set<std::string> NamesOf(const Map& map) {
  std::set<std::string> out;
  std::vector<std::string> names;
  for (const auto& [name, held] : map) {
    names.clear();
    AddReferencedNames(name, *held, names);
    for (auto& n : names) out.insert(std::move(n));
  }
  return out;
}

template <typename Map>
nlohmann::json MapToJson(const Map& map) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, message] : map) {
    std::string text;
    auto status = google::protobuf::util::MessageToJsonString(*message, &text, options);
    if (status.ok()) {
      out.push_back(nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false));
    } else {
      // An Any whose type is not linked in cannot be printed; say so rather
      // than dropping the resource from the dump.
      out.push_back({{"name", name}, {"error", std::string(status.message())}});
    }
  }
  return out;
}

// The names in `names` that `held` has no resource for. Both are in key
// order: one merge walk, no lookups.
template <typename Map>
std::set<std::string> Lacking(const std::set<std::string>& names, const Map& held) {
  std::set<std::string> out;
  auto it = held.begin();
  for (const auto& name : names) {
    while (it != held.end() && it->first < name) ++it;
    if (it == held.end() || it->first != name) out.insert(out.end(), name);
  }
  return out;
}

}  // namespace

std::string_view TypeUrl(XdsType type) { return kTypeUrls[static_cast<int>(type)]; }
std::string_view ShortName(XdsType type) { return kShortNames[static_cast<int>(type)]; }

bool TypeFromUrl(std::string_view type_url, XdsType* type) {
  for (XdsType t : kAllXdsTypes) {
    if (TypeUrl(t) == type_url) {
      *type = t;
      return true;
    }
  }
  return false;
}

size_t XdsResources::Count(XdsType type) const {
  switch (type) {
    case XdsType::kCluster:
      return clusters.size();
    case XdsType::kEndpoint:
      return endpoints.size();
    case XdsType::kListener:
      return listeners.size();
    case XdsType::kRoute:
      return routes.size();
  }
  return 0;
}

void XdsResources::CopyType(XdsType type, const XdsResources& from) {
  switch (type) {
    case XdsType::kCluster:
      clusters = from.clusters;
      break;
    case XdsType::kEndpoint:
      endpoints = from.endpoints;
      break;
    case XdsType::kListener:
      listeners = from.listeners;
      break;
    case XdsType::kRoute:
      routes = from.routes;
      break;
  }
}

void AddReferencedNames(const std::string& /*name*/,
                        const envoy::config::listener::v3::Listener& listener,
                        std::vector<std::string>& out) {
  for (const auto& chain : listener.filter_chains()) AddChainRdsNames(chain, out);
  if (listener.has_default_filter_chain()) AddChainRdsNames(listener.default_filter_chain(), out);
  if (listener.has_api_listener() && listener.api_listener().has_api_listener()) {
    AddRdsName(listener.api_listener().api_listener(), out);
  }
}

void AddReferencedNames(const std::string& name, const envoy::config::cluster::v3::Cluster& cluster,
                        std::vector<std::string>& out) {
  if (!cluster.has_type() || cluster.type() != envoy::config::cluster::v3::Cluster::EDS) return;
  const std::string& service = cluster.eds_cluster_config().service_name();
  out.push_back(service.empty() ? name : service);
}

void AddReferencedNames(const std::string& /*name*/,
                        const envoy::config::route::v3::RouteConfiguration& config,
                        std::vector<std::string>& out) {
  for (const auto& vhost : config.virtual_hosts()) {
    for (const auto& route : vhost.routes()) {
      if (!route.has_route()) continue;
      const auto& action = route.route();
      if (!action.cluster().empty()) out.push_back(action.cluster());
      for (const auto& weighted : action.weighted_clusters().clusters()) {
        if (!weighted.name().empty()) out.push_back(weighted.name());
      }
    }
  }
}

std::set<std::string> RouteNamesOf(const ListenerMap& listeners) { return NamesOf(listeners); }
std::set<std::string> EndpointNamesOf(const ClusterMap& clusters) { return NamesOf(clusters); }
std::set<std::string> ClusterNamesOf(const RouteMap& routes) { return NamesOf(routes); }

std::string MissingResources::ToString() const {
  std::string out;
  auto add = [&out](std::string_view kind, const std::set<std::string>& names) {
    for (const auto& name : names) {
      out += StrCat(out.empty() ? "" : ", ", kind, " ", name);
    }
  };
  add("route configuration", routes);
  add("cluster load assignment", endpoints);
  add("cluster", clusters);
  return out;
}

MissingResources FindMissing(const XdsResources& set) {
  return FindMissing(set, RouteNamesOf(set.listeners), EndpointNamesOf(set.clusters),
                     ClusterNamesOf(set.routes));
}

MissingResources FindMissing(const XdsResources& set, const std::set<std::string>& route_names,
                             const std::set<std::string>& endpoint_names,
                             const std::set<std::string>& cluster_names) {
  return {Lacking(route_names, set.routes), Lacking(endpoint_names, set.endpoints),
          Lacking(cluster_names, set.clusters)};
}

void PruneUnreferenced(XdsResources& set) {
  std::set<std::string> route_names = RouteNamesOf(set.listeners);
  std::erase_if(set.routes, [&](const auto& kv) { return !route_names.contains(kv.first); });
  std::set<std::string> endpoint_names = EndpointNamesOf(set.clusters);
  std::erase_if(set.endpoints, [&](const auto& kv) { return !endpoint_names.contains(kv.first); });
}

nlohmann::json ResourcesToJson(const XdsResources& set) {
  return {
      {"listeners", MapToJson(set.listeners)},
      {"routes", MapToJson(set.routes)},
      {"clusters", MapToJson(set.clusters)},
      {"endpoints", MapToJson(set.endpoints)},
  };
}

}  // namespace causeway::proxy
