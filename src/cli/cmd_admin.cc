// history and token.
#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/proxy_token_hint.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time_source.h"

namespace causeway::cli {
namespace {

struct HistoryFlags {
  std::string zone;
  std::string kind;
  std::string name;
  std::string since;
  int limit = 50;
  std::string output = "table";
};

// The object an entry is about: top-level fields, else its after/before image.
Json Subject(const Json& e) {
  Json who = Json::object();
  for (const char* key : {"kind", "zone", "name"}) {
    if (e.contains(key)) {
      who[key] = e[key];
    } else if (e.contains("after") && e["after"].is_object() && e["after"].contains(key)) {
      who[key] = e["after"][key];
    } else if (e.contains("before") && e["before"].is_object() && e["before"].contains(key)) {
      who[key] = e["before"][key];
    }
  }
  return who;
}

// "path, route_group" — which fields a change touched.
std::string ChangedFields(const Json& e) {
  Json before = e.value("before", Json());
  Json after = e.value("after", Json());
  if (before.is_null() || after.is_null()) return "";
  std::string diff = FieldDiff(before, after);
  std::string fields;
  size_t pos = 0;
  while (pos < diff.size()) {
    size_t end = diff.find('\n', pos);
    std::string line = diff.substr(pos, end - pos);
    size_t colon = line.find(':');
    std::string field = line.substr(2, colon - 2);
    fields += (fields.empty() ? "" : ", ") + field;
    pos = end == std::string::npos ? diff.size() : end + 1;
  }
  return fields;
}

absl::Status History(const Globals& globals, const HistoryFlags& flags) {
  std::optional<model::Kind> kind;
  if (!flags.kind.empty()) {
    CW_ASSIGN_OR_RETURN(kind, KindArg(flags.kind));
  }
  std::optional<std::chrono::system_clock::time_point> since;
  if (!flags.since.empty()) {
    CW_ASSIGN_OR_RETURN(std::chrono::seconds ago, ParseSince(flags.since));
    since = std::chrono::system_clock::now() - ago;
  }
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  const std::string zone = ZoneOr(flags.zone, *hub);

  // The hub filters and pages forward from a revision (oldest first); the
  // filters are applied again here so the output is right either way.
  std::string query;
  auto param = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) query += StrCat("&", key, "=", value);
  };
  param("zone", zone);
  if (kind) param("kind", std::string(model::KindName(*kind)));
  param("name", flags.name);
  if (since) param("since_time", FormatRfc3339(*since));
  std::vector<Json> page_items;
  std::string after = "0";
  for (;;) {
    CW_ASSIGN_OR_RETURN(Json page,
                        hub->Get(StrCat("/v1/changelog?limit=1000&since=", after, query)));
    std::vector<Json> items = ListItems(page);
    if (items.empty()) break;
    std::string next = page.contains("next") && page["next"].is_string()
                           ? page["next"].get<std::string>()
                           : CellText(items.back().value("revision", Json()));
    for (Json& item : items) page_items.push_back(std::move(item));
    if (next.empty() || next == after) break;
    after = next;
  }

  std::vector<Json> entries;
  for (const Json& e : page_items) {
    Json who = Subject(e);
    if (!zone.empty() && who.value("zone", who.value("name", "")) != zone) continue;
    if (kind) {
      auto k = model::ParseKind(who.value("kind", ""));
      if (!k || *k != *kind) continue;
    }
    if (!flags.name.empty() && who.value("name", "") != flags.name) continue;
    if (since) {
      auto t = ParseTime(CellText(e.value("time", Json())));
      if (t.ok() && *t < *since) continue;
    }
    entries.push_back(e);
  }
  if (flags.limit > 0 && entries.size() > static_cast<size_t>(flags.limit)) {
    entries.erase(entries.begin(), entries.end() - flags.limit);
  }

  if (flags.output == "json") {
    std::cout << Json(entries).dump(2) << "\n";
    return absl::OkStatus();
  }
  if (flags.output == "yaml") {
    std::cout << model::JsonToYaml(Json(entries));
    return absl::OkStatus();
  }
  if (entries.empty()) {
    std::cout << "no changes\n";
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> rows = {
      {"REVISION", "TIME", "ACTOR", "OP", "OBJECT", "FIELDS"}};
  for (const Json& e : entries) {
    rows.push_back({CellText(e.value("revision", Json())), CellText(e.value("time", Json())),
                    CellText(e.value("actor", Json())), CellText(e.value("op", Json())),
                    ObjectLabel(Subject(e)), ChangedFields(e)});
  }
  std::cout << RenderTable(rows);
  return absl::OkStatus();
}

struct TokenFlags {
  std::string name;
  std::string role = "viewer";
  std::string zone;
  std::string ttl;
  std::string output = "table";
};

absl::Status TokenCreate(const Globals& globals, const TokenFlags& flags) {
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  Json body = {{"name", flags.name}, {"role", flags.role}};
  if (!flags.zone.empty()) body["zone"] = flags.zone;
  if (!flags.ttl.empty()) body["ttl"] = flags.ttl;
  CW_ASSIGN_OR_RETURN(Json created, hub->Post("/v1/tokens", body));
  if (flags.output == "json") {
    std::cout << created.dump(2) << "\n";
    return absl::OkStatus();
  }
  std::string secret = CellText(created.value("secret", created.value("token", Json())));
  std::cerr << "Token \"" << flags.name << "\" (" << flags.role
            << (flags.zone.empty() ? "" : StrCat(", zone ", flags.zone))
            << (created.value("expires_at", Json()).is_string()
                    ? StrCat(", expires ", CellText(created["expires_at"]))
                    : "")
            << ") created. Its secret is shown only now:\n";
  std::cout << secret << "\n";
  // The secret alone on stdout keeps $(causeway token create ...) usable.
  if (flags.role == "proxy") std::cerr << ProxyTokenHint(secret, flags.zone);
  return absl::OkStatus();
}

absl::Status TokenList(const Globals& globals, const TokenFlags& flags) {
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  CW_ASSIGN_OR_RETURN(Json response, hub->Get("/v1/tokens"));
  std::vector<Json> tokens = ListItems(response);
  if (flags.output == "json") {
    std::cout << Json(tokens).dump(2) << "\n";
    return absl::OkStatus();
  }
  if (flags.output == "yaml") {
    std::cout << model::JsonToYaml(Json(tokens));
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "ROLE", "ZONE", "CREATED", "EXPIRES", "LAST USED"}};
  for (const Json& t : tokens) {
    std::string expires = CellText(t.value("expires_at", Json()));
    if (expires.empty()) expires = "never";
    if (t.value("expired", false)) expires += " (expired)";
    std::string last_used = CellText(t.value("last_used_at", Json()));
    rows.push_back({CellText(t.value("name", Json())), CellText(t.value("role", Json())),
                    CellText(t.value("zone", Json())), CellText(t.value("created_at", Json())),
                    expires, last_used.empty() ? "never" : last_used});
  }
  std::cout << RenderTable(rows);
  return absl::OkStatus();
}

absl::Status TokenRevoke(const Globals& globals, const TokenFlags& flags) {
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  CW_RETURN_IF_ERROR(hub->Delete(StrCat("/v1/tokens/", flags.name)).status());
  std::cout << "Token \"" << flags.name << "\" revoked\n";
  return absl::OkStatus();
}

}  // namespace

void AddAdminCommands(CLI::App& app, Globals* globals) {
  static HistoryFlags history_flags;
  CLI::App* history =
      AddVerb(app, "history", "Show the change log: who changed what, and when",
              "  causeway history -z dev-local\n"
              "  causeway history route demo.turbinelabs.io-8888-api -z dev-local\n"
              "  causeway history --since 2h -o yaml       # with before/after images\n"
              "DURATION: 90s, 15m, 2h30m, 7d.");
  history->add_option("kind", history_flags.kind, "Only this kind");
  history->add_option("name", history_flags.name, "Only this object");
  history->add_option("-z,--zone", history_flags.zone, "Only this zone");
  history->add_option("--since", history_flags.since, "Only changes in the last DURATION");
  history->add_option("--limit", history_flags.limit,
                      "Show the last N changes (default 50; 0: all)");
  history->add_option("-o,--output", history_flags.output, "table (default), json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}));
  AddConnectionFlags(history, globals);
  history->callback([globals] { RunVerb([&] { return History(*globals, history_flags); }); });

  static TokenFlags token_flags;
  CLI::App* token = AddVerb(app, "token", "Create, list and revoke API tokens",
                            "  causeway token create ci --role editor\n"
                            "  causeway token create staging-agent --role agent --zone staging\n"
                            "  causeway token create edge --role proxy --zone staging --ttl 30d\n"
                            "  causeway token list\n"
                            "  causeway token revoke ci");
  token->require_subcommand(1);
  CLI::App* create =
      AddVerb(*token, "create", "Create a token; its secret is printed once, on stdout",
              "  causeway token create ci --role editor\n"
              "  export CAUSEWAY_TOKEN=$(causeway token create me --role viewer)");
  create->add_option("name", token_flags.name, "Token name")->required();
  create
      ->add_option("--role", token_flags.role,
                   "admin, editor, viewer (default), agent, or proxy (xDS streams of one zone; "
                   "needs --zone)")
      ->check(CLI::IsMember({"admin", "editor", "viewer", "agent", "proxy"}));
  create->add_option("-z,--zone", token_flags.zone,
                     "Limit the token to one zone (required for --role proxy)");
  create->add_option("--ttl", token_flags.ttl,
                     "Expire the token after DURATION (90s, 15m, 24h, 7d); default: never");
  create->add_option("-o,--output", token_flags.output, "table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));
  AddConnectionFlags(create, globals);
  create->callback([globals] { RunVerb([&] { return TokenCreate(*globals, token_flags); }); });

  CLI::App* list =
      AddVerb(*token, "list", "List tokens (never their secrets)", "  causeway token list -o json");
  list->add_option("-o,--output", token_flags.output, "table (default), json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}));
  AddConnectionFlags(list, globals);
  list->callback([globals] { RunVerb([&] { return TokenList(*globals, token_flags); }); });

  CLI::App* revoke =
      AddVerb(*token, "revoke", "Revoke a token at once", "  causeway token revoke ci");
  revoke->add_option("name", token_flags.name, "Token name")->required();
  AddConnectionFlags(revoke, globals);
  revoke->callback([globals] { RunVerb([&] { return TokenRevoke(*globals, token_flags); }); });
}

}  // namespace causeway::cli
