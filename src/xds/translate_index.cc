// ZoneIndex: parses a zone's objects once into typed maps keyed by name.
#include <algorithm>
#include <set>

#include "common/status.h"
#include "common/strings.h"
#include "xds/translate.h"

namespace causeway::xds {
namespace {

// Parses `object` with `parse` and files it under `name_of(typed)`.
template <typename T, typename Parse, typename NameOf>
absl::Status Insert(const model::Object& object, Parse parse, NameOf name_of,
                    std::map<std::string, T, std::less<>>* into) {
  absl::StatusOr<T> typed = parse(object);
  if (!typed.ok()) {
    return absl::Status(typed.status().code(),
                        StrCat(model::KeyString(object.key), ": ", typed.status().message()));
  }
  std::string name = name_of(*typed);
  // The spec does not always carry the name (it lives in the key); the key is
  // authoritative.
  if (name.empty()) name = object.key.name;
  // Keeping either copy would make the output depend on input order.
  if (!into->emplace(std::move(name), *std::move(typed)).second) {
    return absl::InvalidArgumentError(StrCat(model::KeyString(object.key), ": listed twice"));
  }
  return absl::OkStatus();
}

void AddKeySet(const std::vector<model::Target>& targets, std::string_view cluster,
               std::set<std::vector<std::string>>* key_sets) {
  for (const model::Target& target : targets) {
    if (target.cluster != cluster || target.metadata.empty()) continue;
    std::vector<std::string> keys;
    for (const auto& [key, value] : target.metadata) keys.push_back(key);
    key_sets->insert(std::move(keys));  // std::map keeps keys sorted
  }
}

void AddKeySets(const std::vector<model::Rule>& rules, std::string_view cluster,
                std::set<std::vector<std::string>>* key_sets) {
  for (const model::Rule& rule : rules) AddKeySet(rule.targets, cluster, key_sets);
}

}  // namespace

absl::StatusOr<ZoneIndex> ZoneIndex::Build(const ZoneView& zone) {
  ZoneIndex index;
  for (const model::Object& object : zone.objects) {
    switch (object.key.kind) {
      case model::Kind::kZone:
        break;
      case model::Kind::kProxy:
        CW_RETURN_IF_ERROR(Insert(
            object, model::ProxyFromObject, [](const model::Proxy& v) { return v.name; },
            &index.proxies_));
        break;
      case model::Kind::kDomain:
        CW_RETURN_IF_ERROR(Insert(
            object, model::DomainFromObject, [](const model::Domain& v) { return v.Name(); },
            &index.domains_));
        break;
      case model::Kind::kRouteGroup:
        CW_RETURN_IF_ERROR(Insert(
            object, model::RouteGroupFromObject, [](const model::RouteGroup& v) { return v.name; },
            &index.route_groups_));
        break;
      case model::Kind::kRoute:
        CW_RETURN_IF_ERROR(Insert(
            object, model::RouteFromObject, [](const model::Route& v) { return v.name; },
            &index.routes_));
        break;
      case model::Kind::kCluster:
        CW_RETURN_IF_ERROR(Insert(
            object, model::ClusterFromObject, [](const model::Cluster& v) { return v.name; },
            &index.clusters_));
        break;
    }
  }
  return index;
}

namespace {
template <typename T>
const T* Find(const std::map<std::string, T, std::less<>>& map, std::string_view name) {
  auto it = map.find(name);
  return it == map.end() ? nullptr : &it->second;
}
}  // namespace

const model::Proxy* ZoneIndex::FindProxy(std::string_view name) const {
  return Find(proxies_, name);
}
const model::Domain* ZoneIndex::FindDomain(std::string_view name) const {
  return Find(domains_, name);
}
const model::RouteGroup* ZoneIndex::FindRouteGroup(std::string_view name) const {
  return Find(route_groups_, name);
}
const model::Cluster* ZoneIndex::FindCluster(std::string_view name) const {
  return Find(clusters_, name);
}

std::vector<const model::Route*> ZoneIndex::RoutesOfDomain(std::string_view domain) const {
  std::vector<const model::Route*> routes;
  for (const auto& [name, route] : routes_) {
    if (route.domain == domain) routes.push_back(&route);
  }
  // Envoy takes the first matching route, so the longest prefix must come
  // first; ties are broken by path, then name (routes_ iterates by name and
  // the sort is stable) to stay deterministic.
  std::stable_sort(routes.begin(), routes.end(), [](const model::Route* a, const model::Route* b) {
    if (a->path.size() != b->path.size()) return a->path.size() > b->path.size();
    return a->path < b->path;
  });
  return routes;
}

std::vector<std::vector<std::string>> ZoneIndex::SubsetKeysOf(std::string_view cluster) const {
  std::set<std::vector<std::string>> key_sets;
  for (const auto& [name, group] : route_groups_) {
    AddKeySet(group.default_targets, cluster, &key_sets);
    AddKeySets(group.rules, cluster, &key_sets);
  }
  for (const auto& [name, route] : routes_) AddKeySets(route.rules, cluster, &key_sets);
  return {key_sets.begin(), key_sets.end()};
}

}  // namespace causeway::xds
