// login and context: saved hub connections (kubectl's contexts).
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "absl/strings/ascii.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/status.h"
#include "common/strings.h"

namespace causeway::cli {
namespace {

// Reads a token from stdin; without echo when stdin is a terminal.
std::string ReadSecret(const std::string& prompt) {
  const bool tty = ::isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty) {
    std::cerr << prompt << std::flush;
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  return std::string(absl::StripAsciiWhitespace(line));
}

// "staging.example.com" or "127.0.0.1-8380": a context name from a hub URL.
std::string ContextNameFor(const std::string& hub) {
  std::string_view rest(hub);
  if (size_t p = rest.find("://"); p != std::string_view::npos) rest.remove_prefix(p + 3);
  rest = rest.substr(0, rest.find('/'));
  std::string name;
  for (char c : rest) {
    char l = absl::ascii_tolower(static_cast<unsigned char>(c));
    name.push_back(absl::ascii_isalnum(static_cast<unsigned char>(l)) || l == '.' ? l : '-');
  }
  return name.empty() ? "default" : name;
}

struct LoginFlags {
  std::string hub_arg;
  std::string name;
  std::string zone;
  bool no_verify = false;
};

absl::Status Login(const Globals& globals, const LoginFlags& flags) {
  Getenv env = ProcessEnv();
  ConnectionFlags cf = globals.connection;
  if (!flags.hub_arg.empty()) cf.hub = flags.hub_arg;
  if (cf.hub.empty()) {
    if (auto hub = env("CAUSEWAY_HUB"); hub && !hub->empty()) cf.hub = *hub;
  }
  if (cf.hub.empty()) return UsageError("which hub? causeway login HUB_URL --token TOKEN");
  cf.context.clear();
  if (cf.token.empty()) {
    if (auto token = env("CAUSEWAY_TOKEN"); token && !token->empty()) {
      cf.token = *token;
    } else {
      cf.token = ReadSecret(StrCat("Token for ", NormalizeHub(cf.hub), ": "));
    }
  }
  if (cf.token.empty()) return UsageError("no token given (--token, $CAUSEWAY_TOKEN or stdin)");

  Connection conn;
  conn.hub = NormalizeHub(cf.hub);
  conn.token = cf.token;
  conn.hub_source = "login";
  conn.ca = cf.ca;
  if (conn.ca.empty()) {
    if (auto ca = env("CAUSEWAY_CA"); ca && !ca->empty()) conn.ca = *ca;
  }
  // Saved absolute: the context is used from any directory.
  if (!conn.ca.empty()) conn.ca = std::filesystem::absolute(conn.ca).string();
  if (!flags.no_verify) {
    // Refuse to save credentials the hub does not accept.
    CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, HubClient::Create(conn));
    CW_RETURN_IF_ERROR(hub->Get("/v1/zones").status());
  }

  const std::string path = ConfigPath(env);
  CW_ASSIGN_OR_RETURN(ConfigFile config, LoadConfig(path));
  Context context{flags.name.empty() ? ContextNameFor(conn.hub) : flags.name, conn.hub, conn.token,
                  flags.zone, conn.ca};
  std::string name = context.name;
  config.Put(std::move(context));
  config.current = name;
  CW_RETURN_IF_ERROR(SaveConfig(path, config));
  std::cout << "Logged in to " << conn.hub << " as context \"" << name << "\" (saved in " << path
            << ")\n";
  return absl::OkStatus();
}

absl::Status ContextList() {
  Getenv env = ProcessEnv();
  CW_ASSIGN_OR_RETURN(ConfigFile config, LoadConfig(ConfigPath(env)));
  if (config.contexts.empty()) {
    std::cout << "No contexts; create one with causeway login HUB_URL --token TOKEN\n";
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> rows = {{"CURRENT", "NAME", "HUB", "ZONE"}};
  for (const Context& c : config.contexts) {
    rows.push_back({c.name == config.current ? "*" : "", c.name, c.hub, c.zone});
  }
  std::cout << RenderTable(rows);
  return absl::OkStatus();
}

absl::Status ContextUse(const std::string& name) {
  Getenv env = ProcessEnv();
  const std::string path = ConfigPath(env);
  CW_ASSIGN_OR_RETURN(ConfigFile config, LoadConfig(path));
  if (config.Find(name) == nullptr) {
    return absl::NotFoundError(StrCat("no context \"", name, "\" (see causeway context list)"));
  }
  config.current = name;
  CW_RETURN_IF_ERROR(SaveConfig(path, config));
  std::cout << "Switched to context \"" << name << "\"\n";
  return absl::OkStatus();
}

absl::Status ContextDelete(const std::string& name) {
  Getenv env = ProcessEnv();
  const std::string path = ConfigPath(env);
  CW_ASSIGN_OR_RETURN(ConfigFile config, LoadConfig(path));
  auto it = std::find_if(config.contexts.begin(), config.contexts.end(),
                         [&](const Context& c) { return c.name == name; });
  if (it == config.contexts.end()) return absl::NotFoundError(StrCat("no context \"", name, "\""));
  config.contexts.erase(it);
  if (config.current == name) config.current.clear();
  CW_RETURN_IF_ERROR(SaveConfig(path, config));
  std::cout << "Deleted context \"" << name << "\"\n";
  return absl::OkStatus();
}

absl::Status ContextCurrent(const Globals& globals) {
  CW_ASSIGN_OR_RETURN(Connection conn, ResolveConnection(globals.connection, ProcessEnv()));
  std::cout << "hub:   " << conn.hub << " (from " << conn.hub_source << ")\n";
  std::cout << "token: "
            << (conn.token.empty() ? "<none>" : StrCat("set (from ", conn.token_source, ")"))
            << "\n";
  if (!conn.zone.empty()) std::cout << "zone:  " << conn.zone << "\n";
  if (!conn.ca.empty()) std::cout << "ca:    " << conn.ca << " (from " << conn.ca_source << ")\n";
  return absl::OkStatus();
}

}  // namespace

void AddConnectionCommands(CLI::App& app, Globals* globals) {
  static LoginFlags login_flags;
  CLI::App* login = AddVerb(
      app, "login", "Save a hub URL and token as a named context and make it current",
      "  causeway login http://hub.staging:8380 --token \"$TOKEN\" --name staging --zone "
      "dev-local\n"
      "  echo \"$TOKEN\" | causeway login http://hub.staging:8380\n"
      "  causeway login https://hub.staging:8443 --ca ca.crt --token \"$TOKEN\"\n"
      "The file is ~/.config/causeway/config.yaml (mode 0600; $CAUSEWAY_CONFIG overrides).");
  login->add_option("url", login_flags.hub_arg, "Hub URL (or --hub, $CAUSEWAY_HUB)");
  login->add_option("--name", login_flags.name, "Context name (default: from the hub's host)");
  login->add_option("-z,--zone", login_flags.zone, "Default zone for this context");
  login->add_flag("--no-verify", login_flags.no_verify,
                  "Save without checking the token with the hub");
  AddConnectionFlags(login, globals);
  login->callback([globals] { RunVerb([&] { return Login(*globals, login_flags); }); });

  CLI::App* context = AddVerb(app, "context", "List, switch and delete saved contexts",
                              "  causeway context list\n"
                              "  causeway context use staging\n"
                              "  causeway context current");
  context->require_subcommand(1);
  CLI::App* list = AddVerb(*context, "list", "List saved contexts (* marks the current one)",
                           "  causeway context list");
  list->callback([] { RunVerb(ContextList); });

  static std::string use_name;
  CLI::App* use =
      AddVerb(*context, "use", "Make a saved context current", "  causeway context use staging");
  use->add_option("name", use_name, "Context name")->required();
  use->callback([] { RunVerb([] { return ContextUse(use_name); }); });

  static std::string delete_name;
  CLI::App* del =
      AddVerb(*context, "delete", "Forget a saved context", "  causeway context delete old-hub");
  del->add_option("name", delete_name, "Context name")->required();
  del->callback([] { RunVerb([] { return ContextDelete(delete_name); }); });

  CLI::App* current = AddVerb(
      *context, "current", "Show where the CLI would connect, and why",
      "  causeway context current\n  CAUSEWAY_HUB=http://10.0.0.5:8380 causeway context current");
  AddConnectionFlags(current, globals);
  current->callback([globals] { RunVerb([&] { return ContextCurrent(*globals); }); });
}

}  // namespace causeway::cli
