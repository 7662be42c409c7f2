#include "proxy/app/static_config.h"

#include <set>

#include "common/status.h"
#include "common/strings.h"
#include "model/documents.h"
#include "xds/translate.h"

namespace causeway::proxy {

absl::StatusOr<XdsResources> LoadStaticConfig(const std::string& path,
                                              const std::string& proxy_name) {
  CW_ASSIGN_OR_RETURN(std::vector<model::Document> docs, model::ReadDocuments({path}));

  // The proxy's zone is the zone of the Proxy object with its name.
  std::set<std::string> zones;
  for (const model::Document& doc : docs) {
    if (doc.parsed.key.kind == model::Kind::kProxy && doc.parsed.key.name == proxy_name) {
      zones.insert(doc.parsed.key.zone);
    }
  }
  if (zones.empty())
    return absl::NotFoundError(StrCat(path, ": no Proxy named \"", proxy_name, "\""));
  if (zones.size() > 1) {
    return absl::InvalidArgumentError(StrCat(
        path, ": Proxy \"", proxy_name, "\" appears in several zones; keep one zone per file"));
  }
  const std::string zone = *zones.begin();

  xds::ZoneView view;
  for (const model::Document& doc : docs) {
    const model::ObjectKey& key = doc.parsed.key;
    if (key.zone != zone) continue;
    model::Object object;
    object.key = key;
    object.version = 1;
    object.spec = doc.parsed.spec;
    view.objects.push_back(std::move(object));
  }
  auto translated = xds::TranslateProxy(view, proxy_name);
  if (!translated.ok()) {
    return absl::Status(translated.status().code(),
                        StrCat(path, ": ", FromAbsl(translated.status().message())));
  }
  // The key is taken before the resource is moved: in `map[key] = value`
  // the right side is evaluated first (C++17), so map[r.name()] =
  // Share(std::move(r)) keys every resource by an empty name.
  XdsResources out;
  auto add = [](auto& map, std::string key, auto& resource) {
    map[std::move(key)] = Share(std::move(resource));
  };
  for (auto& l : translated->listeners) add(out.listeners, l.name(), l);
  for (auto& r : translated->routes) add(out.routes, r.name(), r);
  for (auto& c : translated->clusters) add(out.clusters, c.name(), c);
  for (auto& e : translated->endpoints) add(out.endpoints, e.cluster_name(), e);
  return out;
}

}  // namespace causeway::proxy
