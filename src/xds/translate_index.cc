// ZoneIndex: parses a zone's objects once into typed maps keyed by name.
#include <algorithm>
#include <set>

#include "common/status.h"
#include "common/strings.h"
#include "xds/translate.h"
#include "xds/translate_internal.h"

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

using KeySets = std::map<std::string, std::set<std::vector<std::string>>>;

// Records the metadata key set of each target that selects a subset.
void AddKeySets(const std::vector<model::Target>& targets, KeySets* key_sets) {
  for (const model::Target& target : targets) {
    if (target.metadata.empty()) continue;
    std::vector<std::string> keys;
    for (const auto& [key, value] : target.metadata) keys.push_back(key);  // sorted
    (*key_sets)[target.cluster].insert(std::move(keys));
  }
}

void AddKeySets(const std::vector<model::Rule>& rules, KeySets* key_sets) {
  for (const model::Rule& rule : rules) AddKeySets(rule.targets, key_sets);
}

}  // namespace

absl::StatusOr<ZoneIndex> ZoneIndex::Build(const ZoneView& zone) {
  ZoneIndex index;
  std::map<std::string, model::Route, std::less<>> routes;  // by name, to find duplicates
  std::map<std::string, model::Intercept, std::less<>> intercepts;
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
            object, model::RouteFromObject, [](const model::Route& v) { return v.name; }, &routes));
        break;
      case model::Kind::kCluster:
        CW_RETURN_IF_ERROR(Insert(
            object, model::ClusterFromObject, [](const model::Cluster& v) { return v.name; },
            &index.clusters_));
        break;
      case model::Kind::kIntercept:
        CW_RETURN_IF_ERROR(Insert(
            object, model::InterceptFromObject, [](const model::Intercept& v) { return v.name; },
            &intercepts));
        break;
    }
  }
  // Only an intercept with a tunnel routes anything: without one there is
  // nowhere to send the developer's requests, so they stay in the zone.
  for (auto& [name, intercept] : intercepts) {  // by name
    if (!intercept.tunnel) continue;
    model::Cluster cluster = internal::InterceptCluster(intercept);
    index.clusters_.emplace(cluster.name, std::move(cluster));
    index.intercepts_by_cluster_[intercept.cluster].push_back(std::move(intercept));
  }

  KeySets key_sets;
  for (const auto& [name, group] : index.route_groups_) {
    AddKeySets(group.default_targets, &key_sets);
    AddKeySets(group.rules, &key_sets);
  }
  for (auto& [name, route] : routes) {  // by name
    AddKeySets(route.rules, &key_sets);
    index.routes_by_domain_[route.domain].push_back(std::move(route));
  }
  for (auto& [domain, of_domain] : index.routes_by_domain_) {
    // Envoy takes the first matching route, so the longest prefix must come
    // first; ties are broken by path, then by name (the stable sort keeps the
    // name order) to stay deterministic.
    std::stable_sort(of_domain.begin(), of_domain.end(),
                     [](const model::Route& a, const model::Route& b) {
                       if (a.path.size() != b.path.size()) return a.path.size() > b.path.size();
                       return a.path < b.path;
                     });
  }
  for (auto& [cluster, keys] : key_sets) {
    index.subset_keys_[cluster].assign(keys.begin(), keys.end());
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

const std::vector<model::Route>& ZoneIndex::RoutesOfDomain(std::string_view domain) const {
  static const std::vector<model::Route> kNone;
  auto it = routes_by_domain_.find(domain);
  return it == routes_by_domain_.end() ? kNone : it->second;
}

const std::vector<model::Intercept>& ZoneIndex::InterceptsOfCluster(
    std::string_view cluster) const {
  static const std::vector<model::Intercept> kNone;
  auto it = intercepts_by_cluster_.find(cluster);
  return it == intercepts_by_cluster_.end() ? kNone : it->second;
}

const std::vector<std::vector<std::string>>& ZoneIndex::SubsetKeysOf(
    std::string_view cluster) const {
  static const std::vector<std::vector<std::string>> kNone;
  auto it = subset_keys_.find(cluster);
  return it == subset_keys_.end() ? kNone : it->second;
}

}  // namespace causeway::xds
