// Builders for translation tests: typed objects in, a ZoneView out.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "model/objects.h"
#include "xds/translate.h"

namespace causeway::xds::testing {

inline constexpr char kZone[] = "dev-local";

template <typename T>
model::Object MakeObject(model::Kind kind, std::string name, const T& typed) {
  model::Object object;
  object.key = {kind, kZone, std::move(name)};
  object.spec = model::ToSpec(typed);
  return object;
}

// A zone under construction; Add* return the typed object for further edits
// before View() is taken.
class ZoneBuilder {
 public:
  model::Proxy& AddProxy(std::string name, std::vector<std::string> domains) {
    proxies_.push_back({std::move(name), std::move(domains)});
    return proxies_.back();
  }
  model::Domain& AddDomain(std::string host, uint32_t port, std::vector<std::string> aliases = {}) {
    domains_.push_back({std::move(host), port, std::move(aliases)});
    return domains_.back();
  }
  model::RouteGroup& AddGroup(std::string name, std::vector<model::Target> default_targets) {
    model::RouteGroup group;
    group.name = std::move(name);
    group.default_targets = std::move(default_targets);
    groups_.push_back(std::move(group));
    return groups_.back();
  }
  model::Route& AddRoute(std::string name, std::string domain, std::string path,
                         std::string group) {
    model::Route route;
    route.name = std::move(name);
    route.domain = std::move(domain);
    route.path = std::move(path);
    route.route_group = std::move(group);
    routes_.push_back(std::move(route));
    return routes_.back();
  }
  model::Cluster& AddCluster(std::string name, std::vector<model::Instance> instances = {}) {
    clusters_.push_back({std::move(name), std::move(instances)});
    return clusters_.back();
  }

  ZoneView View() const {
    ZoneView view;
    view.objects.push_back(MakeObject(model::Kind::kZone, kZone, model::Zone{kZone, ""}));
    for (const auto& v : proxies_)
      view.objects.push_back(MakeObject(model::Kind::kProxy, v.name, v));
    for (const auto& v : domains_) {
      view.objects.push_back(MakeObject(model::Kind::kDomain, v.Name(), v));
    }
    for (const auto& v : groups_) {
      view.objects.push_back(MakeObject(model::Kind::kRouteGroup, v.name, v));
    }
    for (const auto& v : routes_)
      view.objects.push_back(MakeObject(model::Kind::kRoute, v.name, v));
    for (const auto& v : clusters_) {
      view.objects.push_back(MakeObject(model::Kind::kCluster, v.name, v));
    }
    return view;
  }

 private:
  // deque: references returned by Add* stay valid as more are added.
  std::deque<model::Proxy> proxies_;
  std::deque<model::Domain> domains_;
  std::deque<model::RouteGroup> groups_;
  std::deque<model::Route> routes_;
  std::deque<model::Cluster> clusters_;
};

inline model::Target Target(std::string cluster, uint32_t weight = 1,
                            std::map<std::string, std::string> metadata = {}) {
  return {std::move(cluster), weight, std::move(metadata)};
}

// The seed scenario: zone dev-local, proxy dev-proxy serving
// demo.turbinelabs.io:8888, route /api through route group "default" to
// cluster envoy-simple.
inline ZoneBuilder SeedZone() {
  ZoneBuilder zone;
  zone.AddProxy("dev-proxy", {"demo.turbinelabs.io:8888"});
  zone.AddDomain("demo.turbinelabs.io", 8888);
  zone.AddGroup("default", {Target("envoy-simple")});
  zone.AddRoute("api", "demo.turbinelabs.io:8888", "/api", "default");
  zone.AddCluster("envoy-simple", {{"127.0.0.1", 8080, {}}});
  return zone;
}

}  // namespace causeway::xds::testing
