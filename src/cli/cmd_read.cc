// get and describe.
#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/status.h"
#include "common/strings.h"
#include "model/documents.h"

namespace causeway::cli {
namespace {

struct GetFlags {
  std::string kind;
  std::string name;
  std::string zone;
  std::string output = "table";
};

absl::Status Get(const Globals& globals, const GetFlags& flags) {
  CW_ASSIGN_OR_RETURN(model::Kind kind, KindArg(flags.kind));
  CW_ASSIGN_OR_RETURN(Format format, ParseFormat(flags.output));
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  const std::string zone = ZoneOr(flags.zone, *hub);
  std::vector<Json> objects;
  const bool one = !flags.name.empty();
  if (one) {
    CW_ASSIGN_OR_RETURN(model::ObjectKey key, ResolveKey(*hub, kind, zone, flags.name));
    CW_ASSIGN_OR_RETURN(Json object, hub->GetObject(key));
    objects.push_back(std::move(object));
  } else {
    CW_ASSIGN_OR_RETURN(objects, hub->List(kind, zone));
  }
  switch (format) {
    case Format::kJson:
      std::cout << (one ? objects[0] : Json(objects)).dump(2) << "\n";
      break;
    case Format::kYaml:
      // Several objects come out as "---"-separated documents, ready for apply -f.
      std::cout << model::JsonToYamlDocuments(objects);
      break;
    case Format::kTable:
    case Format::kWide:
      if (objects.empty()) {
        std::cerr << "No " << model::KindPath(kind)
                  << (zone.empty() || kind == model::Kind::kZone ? "" : StrCat(" in zone ", zone))
                  << "\n";
        break;
      }
      std::cout << RenderTable(ObjectTable(kind, objects, format == Format::kWide,
                                           zone.empty() && kind != model::Kind::kZone,
                                           std::chrono::system_clock::now()));
      break;
  }
  return absl::OkStatus();
}

struct DescribeFlags {
  std::string kind;
  std::string name;
  std::string zone;
};

absl::Status Describe(const Globals& globals, const DescribeFlags& flags) {
  CW_ASSIGN_OR_RETURN(model::Kind kind, KindArg(flags.kind));
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  CW_ASSIGN_OR_RETURN(model::ObjectKey key,
                      ResolveKey(*hub, kind, ZoneOr(flags.zone, *hub), flags.name));
  CW_ASSIGN_OR_RETURN(Json object, hub->GetObject(key));
  std::cout << model::JsonToYaml(object);

  if (kind == model::Kind::kZone) {
    std::cout << "\nObjects:\n";
    for (model::Kind k : model::kAllKinds) {
      if (k == model::Kind::kZone) continue;
      CW_ASSIGN_OR_RETURN(std::vector<Json> objects, hub->List(k, key.name));
      std::cout << "  " << model::KindPath(k) << ": " << objects.size() << "\n";
    }
    return absl::OkStatus();
  }

  std::cout << "\nRefers to:\n";
  std::vector<model::Reference> refs = model::ReferencesOf(key, object);
  if (refs.empty()) std::cout << "  <nothing>\n";
  for (const model::Reference& ref : refs) {
    std::cout << "  " << model::KindName(ref.target.kind) << " " << ref.target.name << "   ("
              << ref.field << ")\n";
  }

  // Referrers are found here rather than asked of the hub: every referring
  // kind is listed once and checked with the model's own reference rules.
  std::cout << "\nReferred to by:\n";
  int referrers = 0;
  for (model::Kind k : {model::Kind::kProxy, model::Kind::kRouteGroup, model::Kind::kRoute}) {
    CW_ASSIGN_OR_RETURN(std::vector<Json> objects, hub->List(k, key.zone));
    for (const Json& o : objects) {
      model::ObjectKey from{k, key.zone, o.value("name", "")};
      for (const model::Reference& ref : model::ReferencesOf(from, o)) {
        if (ref.target != key) continue;
        std::cout << "  " << model::KindName(k) << " " << from.name << "   (" << ref.field << ")\n";
        ++referrers;
      }
    }
  }
  if (referrers == 0) std::cout << "  <nothing>\n";
  return absl::OkStatus();
}

}  // namespace

void AddReadCommands(CLI::App& app, Globals* globals) {
  static GetFlags get_flags;
  CLI::App* get = AddVerb(
      app, "get", "List objects of a kind, or show one",
      "  causeway get zones\n"
      "  causeway get routes -z dev-local\n"
      "  causeway get proxy dev-proxy -z dev-local -o yaml\n"
      "  causeway get domains -o wide\n"
      "  causeway get routes -z dev-local -o yaml > routes.yaml   # apply -f reads it back\n"
      "Kinds: zones, proxies, domains, route-groups (rg), routes, clusters, intercepts;\n"
      "singular, plural or CamelCase. Without -z: the context's zone, else every zone.");
  get->add_option("kind", get_flags.kind, "Kind of object")->required();
  get->add_option("name", get_flags.name, "Object name (a domain's is HOST:PORT)");
  get->add_option("-z,--zone", get_flags.zone, "Zone");
  get->add_option("-o,--output", get_flags.output, "table (default), wide, json or yaml")
      ->check(CLI::IsMember({"table", "wide", "json", "yaml"}));
  AddConnectionFlags(get, globals);
  get->callback([globals] { RunVerb([&] { return Get(*globals, get_flags); }); });

  static DescribeFlags describe_flags;
  CLI::App* describe =
      AddVerb(app, "describe", "Show an object, what it refers to and what refers to it",
              "  causeway describe cluster envoy-simple -z dev-local\n"
              "  causeway describe domain demo.turbinelabs.io:8888\n"
              "  causeway describe zone dev-local");
  describe->add_option("kind", describe_flags.kind, "Kind of object")->required();
  describe->add_option("name", describe_flags.name, "Object name")->required();
  describe->add_option("-z,--zone", describe_flags.zone,
                       "Zone (default: the one zone that has it)");
  AddConnectionFlags(describe, globals);
  describe->callback([globals] { RunVerb([&] { return Describe(*globals, describe_flags); }); });
}

}  // namespace causeway::cli
