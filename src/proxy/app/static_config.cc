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
  XdsResources out;
  for (auto& l : translated->listeners) out.listeners[l.name()] = Share(std::move(l));
  for (auto& r : translated->routes) out.routes[r.name()] = Share(std::move(r));
  for (auto& c : translated->clusters) out.clusters[c.name()] = Share(std::move(c));
  for (auto& e : translated->endpoints) out.endpoints[e.cluster_name()] = Share(std::move(e));
  return out;
}

}  // namespace causeway::proxy
