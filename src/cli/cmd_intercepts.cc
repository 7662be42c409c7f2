// intercepts: who routes which key of which service to their laptop, and
// for how long (docs/two-way-routing.md).
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
  std::cout << RenderTable(ObjectTable(model::Kind::kIntercept, objects, false, zone.empty(),
                                       std::chrono::system_clock::now()));
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
      "tunnel). Without -z: the context's zone, else every zone.");
  cmd->add_option("-z,--zone", flags.zone, "Zone");
  cmd->add_option("-o,--output", flags.output, "table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));
  AddConnectionFlags(cmd, globals);
  cmd->callback([globals] { RunVerb([&] { return ListIntercepts(*globals, flags); }); });
}

}  // namespace causeway::cli
