// intercepts: who routes which key of which service to their laptop, and
// for how long (docs/two-way-routing.md).
#include <algorithm>
#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/status.h"
#include "common/strings.h"

namespace causeway::cli {
namespace {

struct InterceptsFlags {
  std::string zone;
  std::string output = "table";
};

// The tunnel's state and when it connected, as two columns after TUNNEL,
// once the hub reports them for any of `objects` (a tunnel set by hand has
// neither).
void AddTunnelStatusColumns(const std::vector<Json>& objects,
                            std::vector<std::vector<std::string>>* rows) {
  auto status_of = [](const Json& o, const char* field) {
    const Json& tunnel = o.contains("tunnel") ? o["tunnel"] : Json();
    return tunnel.is_object() ? tunnel.value(field, "") : std::string();
  };
  bool any = false;
  for (const Json& o : objects) {
    any = any || !status_of(o, "state").empty() || !status_of(o, "connected_at").empty();
  }
  if (!any || rows->empty()) return;
  const std::vector<std::string>& header = rows->front();
  const auto tunnel = std::find(header.begin(), header.end(), "TUNNEL");
  if (tunnel == header.end()) return;
  const std::ptrdiff_t at = (tunnel - header.begin()) + 1;
  auto or_dash = [](std::string s) { return s.empty() ? std::string("-") : s; };
  (*rows)[0].insert((*rows)[0].begin() + at, {"STATE", "CONNECTED AT"});
  for (size_t i = 1; i < rows->size() && i <= objects.size(); ++i) {
    std::vector<std::string>& row = (*rows)[i];
    row.insert(row.begin() + at, {or_dash(status_of(objects[i - 1], "state")),
                                  or_dash(status_of(objects[i - 1], "connected_at"))});
  }
}

absl::Status ListIntercepts(const Globals& globals, const InterceptsFlags& flags) {
  CW_ASSIGN_OR_RETURN(Format format, ParseFormat(flags.output));
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  const std::string zone = ZoneOr(flags.zone, *hub);
  CW_ASSIGN_OR_RETURN(std::vector<Json> objects, hub->List(model::Kind::kIntercept, zone));
  if (format == Format::kJson) {
    std::cout << Json(objects).dump(2) << "\n";
    return absl::OkStatus();
  }
  if (objects.empty()) {
    std::cerr << "No intercepts" << (zone.empty() ? "" : StrCat(" in zone ", zone)) << "\n";
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> rows = ObjectTable(
      model::Kind::kIntercept, objects, false, zone.empty(), std::chrono::system_clock::now());
  AddTunnelStatusColumns(objects, &rows);
  std::cout << RenderTable(rows);
  return absl::OkStatus();
}

}  // namespace

void AddInterceptCommands(CLI::App& app, Globals* globals) {
  static InterceptsFlags flags;
  CLI::App* cmd = AddVerb(
      app, "intercepts", "List intercepts: which routing key of which cluster goes to whose laptop",
      "  causeway intercepts\n"
      "  causeway intercepts -z staging\n"
      "  causeway describe intercept ana-api -z staging\n"
      "  causeway delete intercept ana-api -z staging\n"
      "Columns: NAME, CLUSTER, KEY, OWNER (the token that holds the key), EXPIRES IN\n"
      "(the lease the laptop renews), TUNNEL (none until a proxy holds the laptop's\n"
      "tunnel); STATE and CONNECTED AT once the tunnel's holder reports them.\n"
      "Without -z: the context's zone, else every zone.");
  cmd->add_option("-z,--zone", flags.zone, "Zone");
  cmd->add_option("-o,--output", flags.output, "table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));
  AddConnectionFlags(cmd, globals);
  cmd->callback([globals] { RunVerb([&] { return ListIntercepts(*globals, flags); }); });
}

}  // namespace causeway::cli
