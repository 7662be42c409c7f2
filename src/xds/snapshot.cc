// Builds a zone's snapshot from its objects with the translation library.
#include "xds/snapshot.h"

#include "common/strings.h"
#include "google/protobuf/util/json_util.h"
#include "xds/translate.h"
#include "xds/translate_edge.h"

namespace causeway::xds {
namespace {

constexpr std::string_view kTypeUrls[] = {
    "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
    "type.googleapis.com/envoy.config.listener.v3.Listener",
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
};
constexpr std::string_view kShortNames[] = {"cds", "eds", "lds", "rds"};
constexpr std::string_view kV2Prefix = "type.googleapis.com/envoy.api.v2.";

ResourcePtr MakeResource(const google::protobuf::Message& message, const std::string& name) {
  auto resource = std::make_shared<Resource>();
  resource->name = name;
  resource->version = ResourceVersion(message);
  resource->any = PackDeterministic(message);
  return resource;
}

// Keeps the previous resource object when the content is unchanged, so
// successive snapshots share memory for everything that did not move.
ResourcePtr Reuse(ResourcePtr fresh, const ResourceMap* previous) {
  if (previous == nullptr) return fresh;
  auto it = previous->find(fresh->name);
  if (it != previous->end() && it->second->version == fresh->version) return it->second;
  return fresh;
}

}  // namespace

nlohmann::json ResourceToJson(const Resource& resource) {
  nlohmann::json out = {{"name", resource.name}, {"version", resource.version}};
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (google::protobuf::util::MessageToJsonString(resource.any, &json, options).ok()) {
    out["resource"] = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  }
  return out;
}

std::string_view TypeUrl(ResourceType type) { return kTypeUrls[static_cast<int>(type)]; }
std::string_view TypeShortName(ResourceType type) { return kShortNames[static_cast<int>(type)]; }

TypeUrlKind ClassifyTypeUrl(std::string_view type_url, ResourceType* type) {
  for (ResourceType t : kPushOrder) {
    if (TypeUrl(t) == type_url) {
      *type = t;
      return TypeUrlKind::kServed;
    }
  }
  if (type_url.substr(0, kV2Prefix.size()) == kV2Prefix) return TypeUrlKind::kV2;
  return TypeUrlKind::kUnknown;
}

std::shared_ptr<const ZoneSnapshot> ZoneSnapshot::Build(
    std::string zone, int64_t revision, uint64_t sequence,
    std::chrono::steady_clock::time_point change_time, const std::vector<model::Object>& objects,
    const ZoneSnapshot* previous) {
  return BuildAll(std::move(zone), revision, sequence, change_time, objects, previous);
}

std::shared_ptr<ZoneSnapshot> ZoneSnapshot::BuildAll(
    std::string zone, int64_t revision, uint64_t sequence,
    std::chrono::steady_clock::time_point change_time, const std::vector<model::Object>& objects,
    const ZoneSnapshot* previous) {
  auto snap = std::make_shared<ZoneSnapshot>();
  snap->zone_ = std::move(zone);
  snap->revision_ = revision;
  snap->sequence_ = sequence;
  snap->change_time_ = change_time;
  for (const auto& object : objects) {
    if (object.key.kind == model::Kind::kZone) snap->zone_exists_ = true;
  }

  ZoneView view{objects};
  auto index = ZoneIndex::Build(view);
  if (!index.ok()) {
    // Objects in the catalog were validated on write, so this means a bug or
    // a newer hub's data; serve what was served before rather than nothing.
    // The copy keeps the previous stamps and index, so the next read tries
    // the whole zone again.
    std::string error = StrCat("zone: ", FromAbsl(index.status().message()));
    if (previous != nullptr) {
      auto copy = std::make_shared<ZoneSnapshot>(*previous);
      copy->revision_ = revision;
      copy->sequence_ = sequence;
      copy->change_time_ = change_time;
      copy->cluster_errors_.clear();
      copy->other_errors_ = {std::move(error)};
      copy->CollectErrors();
      copy->failed_ = true;
      return copy;
    }
    snap->other_errors_.push_back(std::move(error));
    snap->CollectErrors();
    snap->failed_ = true;
    return snap;
  }

  snap->TranslateClusters(*index, previous);

  for (const auto& [name, domain] : index->domains()) {
    auto listener = TranslateApiListener(*index, name);
    auto clusters = xds::ClustersOfDomain(*index, name);
    if (!listener.ok() || !clusters.ok()) {
      snap->other_errors_.push_back(StrCat(
          "Domain \"", name,
          "\": ", FromAbsl((listener.ok() ? clusters.status() : listener.status()).message())));
      continue;
    }
    snap->api_listeners_[name] =
        Reuse(MakeResource(*listener, name), previous ? &previous->api_listeners_ : nullptr);
    snap->domain_clusters_[name] = std::move(*clusters);
  }

  const EdgeKeyTable edge_keys = EdgeKeysOf(objects);
  for (const auto& [name, proxy] : index->proxies()) {
    const ProxyEntry* before = previous ? previous->FindProxy(name) : nullptr;
    auto translated = TranslateProxy(*index, name);
    if (!translated.ok()) {
      ProxyEntry kept = before ? *before : ProxyEntry{};
      kept.error = std::string(FromAbsl(translated.status().message()));
      snap->proxies_[name] = std::move(kept);
      continue;
    }
    ProxyEntry entry;
    for (const auto& l : translated->listeners) {
      entry.listeners[l.name()] =
          Reuse(MakeResource(l, l.name()), before ? &before->listeners : nullptr);
      entry.edge_listeners[l.name()] =
          Reuse(MakeResource(WithRoutingKeyGuard(l, edge_keys), l.name()),
                before ? &before->edge_listeners : nullptr);
    }
    for (const auto& r : translated->routes) {
      entry.routes[r.name()] = Reuse(MakeResource(r, r.name()), before ? &before->routes : nullptr);
    }
    for (const auto& c : translated->clusters) entry.clusters.push_back(c.name());
    snap->proxies_[name] = std::move(entry);
  }
  snap->CollectErrors();
  snap->index_ = std::make_shared<const ZoneIndex>(*std::move(index));
  return snap;
}

void ZoneSnapshot::TranslateClusters(const ZoneIndex& index, const ZoneSnapshot* previous) {
  for (const auto& [name, cluster] : index.clusters()) {
    clusters_[name] = Reuse(MakeResource(TranslateCluster(index, cluster), name),
                            previous ? &previous->clusters_ : nullptr);
    endpoints_[name] = Reuse(MakeResource(TranslateEndpoints(cluster), name),
                             previous ? &previous->endpoints_ : nullptr);
  }
  clusters_translated_ = index.clusters().size();
}

void ZoneSnapshot::CollectErrors() {
  errors_.clear();
  for (const auto& [name, error] : cluster_errors_) errors_.push_back(error);
  errors_.insert(errors_.end(), other_errors_.begin(), other_errors_.end());
}

std::shared_ptr<const ZoneSnapshot> ZoneSnapshot::Read(
    std::string zone, int64_t revision, uint64_t sequence,
    std::chrono::steady_clock::time_point change_time, const ConfigSource& source,
    const ZoneSnapshot* previous) {
  auto all = [](const model::ObjectKey&, int64_t) { return true; };
  auto whole_zone = [&] {
    ZoneRead read = source.ReadZone(zone, all);
    auto snap = BuildAll(zone, revision, sequence, change_time, read.objects, previous);
    if (!snap->failed_) {
      snap->stamps_.clear();
      snap->stamps_.insert(read.stamps.begin(), read.stamps.end());
    }
    return std::shared_ptr<const ZoneSnapshot>(std::move(snap));
  };
  if (previous == nullptr || previous->index_ == nullptr || previous->stamps_.empty() ||
      previous->failed_) {
    return whole_zone();
  }

  // One pass that copies only the clusters whose stamp moved, and notes
  // whether anything else moved (then the whole zone is read again).
  const auto& known = previous->stamps_;
  bool other_moved = false;
  auto moved_clusters = [&](const model::ObjectKey& key, int64_t stamp) {
    auto it = known.find(key);
    const bool moved = it == known.end() || it->second != stamp;
    if (key.kind != model::Kind::kCluster || it == known.end()) other_moved |= moved;
    return moved && !other_moved;
  };
  ZoneRead read = source.ReadZone(zone, moved_clusters);
  // Every key read was known (or other_moved is set), so equal sizes mean
  // nothing was deleted.
  if (other_moved || read.stamps.size() != known.size()) return whole_zone();

  auto snap = std::make_shared<ZoneSnapshot>(*previous);
  snap->revision_ = revision;
  snap->sequence_ = sequence;
  snap->change_time_ = change_time;
  snap->stamps_.clear();
  snap->stamps_.insert(read.stamps.begin(), read.stamps.end());
  snap->clusters_translated_ = read.objects.size();
  for (const model::Object& object : read.objects) {
    const std::string& name = object.key.name;
    auto cluster = model::ClusterFromObject(object);
    if (!cluster.ok()) {
      // Validated on write, so as in BuildAll: keep serving what was served.
      snap->cluster_errors_[name] =
          StrCat(model::KeyString(object.key), ": ", FromAbsl(cluster.status().message()));
      continue;
    }
    if (cluster->name.empty()) cluster->name = name;
    snap->cluster_errors_.erase(name);
    snap->clusters_[name] = Reuse(MakeResource(TranslateCluster(*previous->index_, *cluster), name),
                                  &previous->clusters_);
    snap->endpoints_[name] =
        Reuse(MakeResource(TranslateEndpoints(*cluster), name), &previous->endpoints_);
  }
  snap->CollectErrors();
  return snap;
}

const ZoneSnapshot::ProxyEntry* ZoneSnapshot::FindProxy(std::string_view proxy) const {
  auto it = proxies_.find(proxy);
  return it == proxies_.end() ? nullptr : &it->second;
}

namespace {
ResourcePtr Find(const ResourceMap& map, std::string_view name) {
  auto it = map.find(name);
  return it == map.end() ? nullptr : it->second;
}
}  // namespace

ResourcePtr ZoneSnapshot::FindCluster(std::string_view name) const { return Find(clusters_, name); }
ResourcePtr ZoneSnapshot::FindEndpoints(std::string_view name) const {
  return Find(endpoints_, name);
}
ResourcePtr ZoneSnapshot::FindApiListener(std::string_view domain) const {
  return Find(api_listeners_, domain);
}

const std::vector<std::string>& ZoneSnapshot::ClustersOfDomain(std::string_view domain) const {
  static const std::vector<std::string> kNone;
  auto it = domain_clusters_.find(domain);
  return it == domain_clusters_.end() ? kNone : it->second;
}

size_t DerivedValues::size() const {
  std::lock_guard lock(mu_);
  return values_.size();
}

std::shared_ptr<const void> DerivedValues::Get(
    const std::string& key, const std::function<std::shared_ptr<const void>()>& compute) {
  {
    std::lock_guard lock(mu_);
    auto it = values_.find(key);
    if (it != values_.end()) return it->second;
  }
  // Computed outside the lock; two threads asking at once may both compute,
  // and the first to finish is kept (the results are equal).
  std::shared_ptr<const void> value = compute();
  std::lock_guard lock(mu_);
  // Keys follow what clients subscribe to, so a client could make them
  // without end: past the bound, values are computed for the caller and not
  // kept (the keys already there, the common subscriptions, still hit).
  if (values_.size() >= kMaxValues && values_.count(key) == 0) return value;
  return values_.try_emplace(key, std::move(value)).first->second;
}

}  // namespace causeway::xds
