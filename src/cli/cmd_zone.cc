// export-zone and status.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/status.h"
#include "common/strings.h"
#include "model/documents.h"

namespace causeway::cli {
namespace {

struct ExportFlags {
  std::string zone;
  std::string output = "yaml";
  bool no_instances = false;
};

// Kinds in the order their references resolve (see KindRank).
std::vector<model::Kind> KindsInApplyOrder() {
  std::vector<model::Kind> kinds(std::begin(model::kAllKinds), std::end(model::kAllKinds));
  std::stable_sort(kinds.begin(), kinds.end(), [](model::Kind a, model::Kind b) {
    return model::KindRank(a) < model::KindRank(b);
  });
  return kinds;
}

absl::Status ExportZone(const Globals& globals, const ExportFlags& flags) {
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  std::vector<Json> documents;
  for (model::Kind kind : KindsInApplyOrder()) {
    // Intercepts are leases of developers' laptops, not configuration: a
    // zone recreated from the export must not route anyone's key.
    if (kind == model::Kind::kIntercept) continue;
    if (kind == model::Kind::kZone) {
      CW_ASSIGN_OR_RETURN(Json zone, hub->GetObject({kind, flags.zone, flags.zone}));
      documents.push_back(model::PortableJson(zone));
      continue;
    }
    CW_ASSIGN_OR_RETURN(std::vector<Json> objects, hub->List(kind, flags.zone));
    std::sort(objects.begin(), objects.end(), [](const Json& a, const Json& b) {
      return a.value("name", "") < b.value("name", "");
    });
    for (const Json& o : objects) {
      Json doc = model::PortableJson(o);
      if (flags.no_instances && kind == model::Kind::kCluster) doc.erase("instances");
      documents.push_back(std::move(doc));
    }
  }
  if (flags.output == "json") {
    std::cout << Json(documents).dump(2) << "\n";
  } else {
    std::cout << "# Zone " << flags.zone << ": " << documents.size()
              << " objects. Recreate it with: causeway apply -f FILE\n"
              << model::JsonToYamlDocuments(documents);
  }
  return absl::OkStatus();
}

struct StatusFlags {
  std::string zone;
  std::string output = "table";
};

// The first present field of `o` among `keys`, as text.
std::string Field(const Json& o, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    if (o.contains(key) && !o[key].is_null()) return CellText(o[key]);
  }
  return "";
}

// "yes" when every resource type the hub sent has been ACKed at the version
// sent with nothing in flight; otherwise what is behind ("lds: NACK ...").
std::string InSync(const Json& proxy) {
  if (proxy.contains("registered") && proxy["registered"].is_boolean() &&
      !proxy["registered"].get<bool>()) {
    return "unregistered";
  }
  if (!proxy.contains("types") || !proxy["types"].is_object()) return "";
  std::string behind;
  for (auto it = proxy["types"].begin(); it != proxy["types"].end(); ++it) {
    const Json& t = it.value();
    if (t.contains("last_nack") && t["last_nack"].is_object() &&
        Field(t["last_nack"], {"version"}) == Field(t, {"version_sent"})) {
      behind += StrCat(behind.empty() ? "" : ", ", it.key(), ": NACK ",
                       Field(t["last_nack"], {"message"}));
    } else if (Field(t, {"version_sent"}) != Field(t, {"version_acked"}) ||
               (t.contains("pending") && t["pending"].is_boolean() && t["pending"].get<bool>())) {
      behind += StrCat(behind.empty() ? "" : ", ", it.key(), ": waiting for ACK");
    }
  }
  return behind.empty() ? "yes" : behind;
}

// "hub" for a stream to the hub itself, "agent/NAME" for one to agent
// NAME's xDS server (as that agent last reported it).
std::string Via(const Json& proxy) {
  const std::string agent = Field(proxy, {"agent"});
  if (!agent.empty()) return StrCat("agent/", agent);
  const std::string via = Field(proxy, {"via"});
  return via.empty() ? "hub" : via;
}

absl::Status ShowStatus(const Globals& globals, const StatusFlags& flags) {
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  std::vector<std::string> zones;
  std::string zone = ZoneOr(flags.zone, *hub);
  if (zone.empty()) {
    CW_ASSIGN_OR_RETURN(zones, hub->ZoneNames());
  } else {
    zones.push_back(zone);
  }
  Json all = Json::array();
  std::vector<std::vector<std::string>> rows = {
      {"ZONE", "PROXY", "NODE", "VIA", "TOKEN", "ADDRESS", "IN SYNC", "CONNECTED"}};
  std::vector<std::string> notes;
  auto now = std::chrono::system_clock::now();
  for (const std::string& z : zones) {
    if (!zone.empty()) {
      // Tells "no such zone" apart from "no status yet" below.
      CW_RETURN_IF_ERROR(hub->GetObject({model::Kind::kZone, z, z}).status());
    }
    absl::StatusOr<Json> status = hub->Get(StrCat("/v1/zones/", z, "/status"));
    // A hub without proxy status (before xDS) answers 404: no proxies.
    if (absl::IsNotFound(status.status())) continue;
    if (!status.ok()) return status.status();
    const Json proxies = status->contains("proxies") ? (*status)["proxies"] : Json::array();
    for (const Json& p : proxies) {
      Json entry = p;
      if (!entry.contains("zone")) entry["zone"] = z;
      all.push_back(entry);
      std::string connected = Field(p, {"connected_at", "since"});
      // TOKEN: the name of the token the stream authenticated with (hubs
      // with --xds-auth token).
      rows.push_back({z, Field(p, {"proxy", "name"}), Field(p, {"node_id", "node", "id"}), Via(p),
                      Field(p, {"token"}), Field(p, {"address", "peer"}), InSync(p),
                      connected.empty() ? "" : FormatAge(connected, now)});
    }
    // Proxies an agent could not fit in its report.
    if (status->contains("agents") && (*status)["agents"].is_array()) {
      for (const Json& a : (*status)["agents"]) {
        const std::string omitted = Field(a, {"omitted"});
        if (!omitted.empty() && omitted != "0") {
          notes.push_back(StrCat("zone ", z, ": agent ", Field(a, {"name"}), " has ", omitted,
                                 " more proxies it did not report"));
        }
      }
    }
  }
  if (flags.output == "json") {
    std::cout << all.dump(2) << "\n";
  } else if (flags.output == "yaml") {
    std::cout << model::JsonToYaml(all);
  } else if (all.empty()) {
    std::cout << "no proxies" << (zone.empty() ? "" : StrCat(" in zone ", zone)) << "\n";
  } else {
    std::cout << RenderTable(rows);
  }
  if (flags.output != "json" && flags.output != "yaml") {
    for (const std::string& note : notes) std::cout << note << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddZoneCommands(CLI::App& app, Globals* globals) {
  static ExportFlags export_flags;
  CLI::App* exp = AddVerb(
      app, "export-zone", "Print a zone as YAML that apply -f turns back into the same zone",
      "  causeway export-zone dev-local > dev-local.yaml\n"
      "  causeway export-zone dev-local --hub http://old:8380 | causeway apply -f - --hub "
      "http://new:8380\n"
      "  causeway export-zone dev-local --no-instances   # leave instances to collectors\n"
      "Objects come in the order their references resolve, without versions or times.");
  exp->add_option("zone", export_flags.zone, "Zone")->required();
  exp->add_option("-o,--output", export_flags.output, "yaml (default) or json")
      ->check(CLI::IsMember({"yaml", "json"}));
  exp->add_flag("--no-instances", export_flags.no_instances, "Leave clusters' instances out");
  AddConnectionFlags(exp, globals);
  exp->callback([globals] { RunVerb([&] { return ExportZone(*globals, export_flags); }); });

  static StatusFlags status_flags;
  CLI::App* st = AddVerb(
      app, "status",
      "Show each connected proxy and whether its configuration is in sync; VIA is \"hub\" "
      "for proxies on the hub's xDS, \"agent/NAME\" for those on agent NAME's "
      "(`causeway agent --xds`), as that agent last reported them; TOKEN is the name of the "
      "token the proxy's stream authenticated with (hubs with --xds-auth token)",
      "  causeway status\n"
      "  causeway status -z dev-local -o json");
  st->add_option("-z,--zone", status_flags.zone, "Zone (default: the context's, else all)");
  st->add_option("-o,--output", status_flags.output, "table (default), json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}));
  AddConnectionFlags(st, globals);
  st->callback([globals] { RunVerb([&] { return ShowStatus(*globals, status_flags); }); });
}

}  // namespace causeway::cli
