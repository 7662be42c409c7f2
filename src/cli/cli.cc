#include "cli/cli.h"

#include <iostream>

#include "absl/strings/ascii.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/status.h"
#include "common/strings.h"

namespace causeway::cli {

void AddConnectionFlags(CLI::App* cmd, Globals* globals) {
  cmd->add_option("--hub", globals->connection.hub,
                  "Hub URL (default: $CAUSEWAY_HUB, the current context, or http://127.0.0.1:8380)")
      ->group("Connection");
  cmd->add_option(
         "--token", globals->connection.token,
         "Bearer token (default: $CAUSEWAY_TOKEN, the context's, or the local admin.token)")
      ->group("Connection");
  cmd->add_option("--context", globals->connection.context,
                  "Use this saved context instead of the current one")
      ->group("Connection");
  cmd->add_option("--ca", globals->connection.ca,
                  "PEM file of the CA that signed an https:// hub's certificate (default: "
                  "$CAUSEWAY_CA, the context's, or the system's trusted CAs)")
      ->group("Connection");
}

CLI::App* AddVerb(CLI::App& parent, const std::string& name, const std::string& description,
                  const std::string& examples) {
  CLI::App* cmd = parent.add_subcommand(name, description);
  std::string footer;
  if (!examples.empty()) footer = StrCat("\nExamples:\n", examples, "\n");
  footer += StrCat("\n", kExitCodesHelp, "\n");
  cmd->footer(footer);
  return cmd;
}

void RunVerb(const std::function<absl::Status()>& fn) {
  absl::Status status = fn();
  if (status.ok()) return;
  std::cout.flush();
  std::cerr << "error: " << status.message() << std::endl;
  throw CLI::RuntimeError(ExitCodeFor(status));
}

absl::StatusOr<std::unique_ptr<HubClient>> ConnectHub(const Globals& globals) {
  CW_ASSIGN_OR_RETURN(Connection conn, ResolveConnection(globals.connection, ProcessEnv()));
  return HubClient::Create(conn);
}

absl::StatusOr<model::Kind> KindArg(const std::string& text) {
  auto kind = model::ParseKind(text);
  if (!kind) {
    return UsageError(
        StrCat("unknown kind \"", text,
               "\" (zones, proxies, domains, route-groups, routes, clusters, intercepts)"));
  }
  return *kind;
}

std::string ZoneOr(const std::string& flag, const HubClient& hub) {
  return flag.empty() ? hub.connection().zone : flag;
}

absl::StatusOr<model::ObjectKey> ResolveKey(HubClient& hub, model::Kind kind,
                                            const std::string& zone, const std::string& name) {
  model::ObjectKey key{kind, zone, name};
  if (kind == model::Kind::kZone) {
    key.zone = name;
    return key;
  }
  if (!zone.empty()) return key;
  CW_ASSIGN_OR_RETURN(std::vector<std::string> zones, hub.ZoneNames());
  std::vector<std::string> found;
  for (const std::string& z : zones) {
    absl::StatusOr<Json> o = hub.GetObject({kind, z, name});
    if (o.ok()) {
      found.push_back(z);
    } else if (!absl::IsNotFound(o.status())) {
      return o.status();
    }
  }
  if (found.size() == 1) {
    key.zone = found[0];
    return key;
  }
  if (found.empty()) {
    return absl::NotFoundError(
        StrCat(model::KindName(kind), " \"", name, "\" not found in any zone"));
  }
  std::string list;
  for (const std::string& z : found) list += (list.empty() ? "" : ", ") + z;
  return UsageError(
      StrCat(model::KindName(kind), " \"", name, "\" exists in zones ", list, "; pass -z ZONE"));
}

void AddCliCommands(CLI::App& app) {
  // One Globals for the process: only the verb being run parses into it.
  static Globals globals;
  std::string footer = app.get_footer();
  if (footer.find("Exit codes") == std::string::npos) {
    app.footer(
        StrCat(footer, footer.empty() ? "" : "\n",
               "\nConnection: --hub URL --token T [--ca FILE], or $CAUSEWAY_HUB / "
               "$CAUSEWAY_TOKEN [/ $CAUSEWAY_CA], or `causeway login`;\nwith none, the hub at "
               "http://127.0.0.1:8380 and its "
               "~/.local/share/causeway/admin.token.\n\n",
               kExitCodesHelp, "\n"));
  }
  // Connection flags also before the verb (`causeway --hub URL get zones`),
  // as kubectl, git and docker take theirs; both bind the same storage, so
  // whichever is given counts, and one after the verb wins.
  AddConnectionFlags(&app, &globals);
  AddConnectionCommands(app, &globals);
  AddInitZoneCommand(app, &globals);
  AddReadCommands(app, &globals);
  AddWriteCommands(app, &globals);
  AddEditCommand(app, &globals);
  AddZoneCommands(app, &globals);
  AddAdminCommands(app, &globals);
  AddCompletionCommand(app);
  AddTlsCommands(app);
  AddExplainCommand(app, &globals);
  AddInterceptCommands(app, &globals);
}

std::optional<int> RejectUnknownVerb(const CLI::App& app, int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (arg.starts_with("-")) {
      // The top level's options that take a value as the next word.
      if (arg == "--hub" || arg == "--token" || arg == "--context" || arg == "--ca") ++i;
      continue;
    }
    const auto verbs =
        app.get_subcommands([&](const CLI::App* sub) { return sub->check_name(std::string(arg)); });
    if (!verbs.empty()) return std::nullopt;
    std::cerr << "error: unknown command \"" << arg
              << "\"; run `causeway --help` for the list of commands" << std::endl;
    return kExitUsage;
  }
  return std::nullopt;
}

}  // namespace causeway::cli
