// init-zone ZONE [--proxy NAME=HOST:PORT]… [--route HOST:PORT/PATH=CLUSTER]… [--replace]
#include <iostream>

#include "cli/commands.h"
#include "cli/init_zone.h"
#include "cli/output.h"
#include "common/status.h"
#include "common/strings.h"
#include "model/documents.h"

namespace causeway::cli {
namespace {

struct InitZoneFlags {
  InitZoneSpec spec;
  bool replace = false;
};

// The spec fields of an API object (what a planned object's spec compares to).
Json SpecOf(const Json& api_object, const Json& like) {
  Json spec = Json::object();
  for (auto it = like.begin(); it != like.end(); ++it) {
    spec[it.key()] = api_object.contains(it.key()) ? api_object[it.key()] : Json();
  }
  return spec;
}

absl::Status InitZone(const Globals& globals, const InitZoneFlags& flags) {
  CW_ASSIGN_OR_RETURN(std::vector<model::ParsedObject> plan, PlanInitZone(flags.spec));
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));

  // What exists already decides, per object: create, leave alone, or (with
  // --replace) overwrite. The read happens before the one atomic write; every
  // existing object goes out with the version we read, so a change made in
  // between fails the whole request instead of being overwritten.
  std::map<model::ObjectKey, Json> existing;
  absl::StatusOr<Json> zone =
      hub->GetObject({model::Kind::kZone, flags.spec.zone, flags.spec.zone});
  if (zone.ok()) {
    existing[{model::Kind::kZone, flags.spec.zone, flags.spec.zone}] = *zone;
    for (model::Kind kind : model::kAllKinds) {
      if (kind == model::Kind::kZone) continue;
      CW_ASSIGN_OR_RETURN(std::vector<Json> objects, hub->List(kind, flags.spec.zone));
      for (Json& o : objects) {
        // Name first: Json's operator= takes its argument by value, and the
        // right side of = is evaluated (so moved from) before the left.
        model::ObjectKey key{kind, flags.spec.zone, o.value("name", "")};
        existing[key] = std::move(o);
      }
    }
  } else if (!absl::IsNotFound(zone.status())) {
    return zone.status();
  }

  std::vector<Json> documents;
  std::vector<std::string> kept;
  std::vector<std::string> conflicts;
  for (const model::ParsedObject& object : plan) {
    Json doc = model::ApplyJson(object);
    auto it = existing.find(object.key);
    if (it != existing.end()) {
      const bool same = SpecOf(it->second, object.spec) == object.spec;
      if (!same &&
          (object.key.kind == model::Kind::kZone || object.key.kind == model::Kind::kCluster)) {
        // A zone's description and a cluster's instances (maintained by
        // collectors) are not init-zone's to reset.
        kept.push_back(model::KeyString(object.key));
        continue;
      }
      if (!same && !flags.replace) {
        conflicts.push_back(model::KeyString(object.key));
        continue;
      }
      doc["version"] = it->second.value("version", Json());
    }
    documents.push_back(std::move(doc));
  }
  if (!conflicts.empty()) {
    std::string list;
    for (const std::string& c : conflicts) list += (list.empty() ? "" : ", ") + c;
    return absl::FailedPreconditionError(
        StrCat(list, (conflicts.size() == 1 ? " exists" : " exist"),
               " with different content; nothing was changed (rerun with --replace to overwrite)"));
  }
  CW_ASSIGN_OR_RETURN(Json response, hub->Apply(documents));
  for (const std::string& k : kept) std::cout << k << " kept (exists)\n";
  std::cout << ApplyReport(response);
  return absl::OkStatus();
}

}  // namespace

void AddInitZoneCommand(CLI::App& app, Globals* globals) {
  static InitZoneFlags flags;
  CLI::App* cmd = AddVerb(
      app, "init-zone",
      "Create a zone and, in the same atomic write, its proxies, domains, clusters, route groups "
      "and routes",
      "  # The seed's local-to-staging setup:\n"
      "  causeway init-zone dev-local \\\n"
      "      --proxy dev-proxy=demo.turbinelabs.io:8888 \\\n"
      "      --route demo.turbinelabs.io:8888/api=envoy-simple --route-group default\n"
      "  # Just the zone:\n"
      "  causeway init-zone dev-local\n\n"
      "Each --route HOST:PORT/PATH=CLUSTER makes the domain HOST:PORT, the cluster (empty if "
      "new),\n"
      "a route group sending to the cluster (named after it, or --route-group), and a route named\n"
      "HOST-PORT-PATH (\"demo.turbinelabs.io-8888-api\"). Each --proxy NAME=HOST:PORT makes the\n"
      "domain and adds it to proxy NAME. Running it again changes nothing; objects that exist "
      "with\n"
      "other content stop it unless --replace. Existing zones and clusters are never reset.");
  cmd->add_option("zone", flags.spec.zone, "Zone name")->required();
  cmd->add_option("--proxy", flags.spec.proxies,
                  "NAME=HOST:PORT (repeatable; NAME alone: no domains)");
  cmd->add_option("--route", flags.spec.routes, "HOST:PORT/PATH=CLUSTER (repeatable)");
  cmd->add_option(
      "--route-group", flags.spec.route_group,
      "Name of the route group (when all routes go to one cluster); default: the cluster's name");
  cmd->add_flag("--replace", flags.replace, "Overwrite existing objects whose content differs");
  AddConnectionFlags(cmd, globals);
  cmd->callback([globals] { RunVerb([&] { return InitZone(*globals, flags); }); });
}

}  // namespace causeway::cli
