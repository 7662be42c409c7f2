// explain: where a request would go on a proxy, from the hub's
// POST /v1/zones/{zone}/proxies/{proxy}/explain.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/status.h"
#include "common/strings.h"
#include "model/yaml_json.h"

namespace causeway::cli {
namespace {

struct ExplainFlags {
  std::string zone;
  std::string proxy;
  std::string method = "GET";
  std::vector<std::string> headers;  // "Name: value"
  std::vector<std::string> cookies;  // "name=value"
  std::string target;                // URL or host[:port]/path
  std::string output = "text";
};

// "http://demo.example:8888/api?x=1", "demo.example:8888/api" or
// "demo.example" into the Host and the path with its query. Only the scheme
// and the first '/' or '?' are looked at: the hub checks the rest.
absl::Status SplitTarget(std::string_view target, Json* body) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.starts_with(scheme)) target.remove_prefix(scheme.size());
  }
  const size_t end = target.find_first_of("/?#");
  std::string_view host = target.substr(0, end);
  std::string path(end == std::string_view::npos ? "/" : target.substr(end));
  if (path.find('#') != std::string::npos) path.resize(path.find('#'));  // never sent
  if (path.empty() || path[0] != '/') path.insert(0, "/");
  if (host.empty()) {
    return UsageError(StrCat("\"", target, "\" names no host (give URL or HOST[:PORT]/PATH)"));
  }
  (*body)["host"] = std::string(host);
  (*body)["path"] = path;
  return absl::OkStatus();
}

absl::StatusOr<Json> RequestBody(const ExplainFlags& flags) {
  Json body = Json::object();
  CW_RETURN_IF_ERROR(SplitTarget(flags.target, &body));
  body["method"] = flags.method;
  Json headers = Json::object();
  for (const std::string& h : flags.headers) {
    const size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      return UsageError(StrCat("-H \"", h, "\": give \"Name: value\""));
    }
    const size_t start = h.find_first_not_of(' ', colon + 1);
    headers[h.substr(0, colon)] = start == std::string::npos ? "" : h.substr(start);
  }
  if (!headers.empty()) body["headers"] = std::move(headers);
  Json cookies = Json::object();
  for (const std::string& c : flags.cookies) {
    const size_t eq = c.find('=');
    if (eq == std::string::npos || eq == 0) {
      return UsageError(StrCat("--cookie \"", c, "\": give name=value"));
    }
    cookies[c.substr(0, eq)] = c.substr(eq + 1);
  }
  if (!cookies.empty()) body["cookies"] = std::move(cookies);
  return body;
}

// The proxy named, or the zone's only one.
absl::StatusOr<std::string> ProxyOf(HubClient& hub, const std::string& zone,
                                    const std::string& flag) {
  if (!flag.empty()) return flag;
  CW_ASSIGN_OR_RETURN(std::vector<Json> proxies, hub.List(model::Kind::kProxy, zone));
  if (proxies.size() == 1) return proxies[0].value("name", "");
  std::string names;
  for (const Json& p : proxies) names += StrCat(names.empty() ? "" : ", ", p.value("name", ""));
  return UsageError(StrCat("zone ", zone, " has ", proxies.size(), " proxies: give --proxy (",
                           names.empty() ? "none" : names, ")"));
}

std::string InstanceText(const Json& instance) {
  std::string out = StrCat(instance.value("host", ""), ":", instance.value("port", 0));
  std::string meta;
  if (instance.contains("metadata") && instance["metadata"].is_object()) {
    for (const auto& [k, v] : instance["metadata"].items()) {
      meta += StrCat(meta.empty() ? "" : ", ", k, "=", v.is_string() ? v.get<std::string>() : "");
    }
  }
  return meta.empty() ? out : StrCat(out, " (", meta, ")");
}

void PrintText(const Json& a) {
  const std::string rule_of = a.value("rule_of", "");
  std::string rule = "the route group's default targets";
  if (!a["rule"].is_null()) {
    rule = StrCat(a["rule"].dump(), rule_of == "route" ? " of the route" : " of the route group");
  }
  std::vector<std::vector<std::string>> rows = {
      {"LISTENER", a.value("listener", "")},
      {"DOMAIN", a.value("domain", "")},
      {"ROUTE", StrCat(a.value("route", ""), " (route group ", a.value("route_group", ""), ")")},
      {"RULE", rule},
  };
  if (a["cluster"].is_string()) {
    rows.push_back({"CLUSTER", a["cluster"].get<std::string>()});
  } else {
    int total = 0;
    for (const Json& c : a["clusters"]) total += c.value("weight", 0);
    bool first_cluster = true;
    for (const Json& c : a["clusters"]) {
      rows.push_back({first_cluster ? "CLUSTERS" : "",
                      StrCat(c.value("name", ""), "  weight ", c.value("weight", 0), "/", total)});
      first_cluster = false;
    }
  }
  bool first = true;
  for (const Json& i : a["instances"]) {
    std::string text = InstanceText(i);
    if (i.contains("cluster")) text = StrCat(i["cluster"].get<std::string>(), "  ", text);
    rows.push_back({first ? "INSTANCES" : "", text});
    first = false;
  }
  if (first) rows.push_back({"INSTANCES", "none: the request would fail with 503"});
  for (const auto& row : rows)
    std::cout << row[0] << std::string(12 - row[0].size(), ' ') << row[1] << "\n";
  std::cout << "\n" << a.value("reason", "") << "\n";
}

absl::Status RunExplain(const Globals& globals, const ExplainFlags& flags) {
  CW_ASSIGN_OR_RETURN(Json body, RequestBody(flags));
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  const std::string zone = ZoneOr(flags.zone, *hub);
  if (zone.empty()) return UsageError("give the zone with -z (or a context with a zone)");
  CW_ASSIGN_OR_RETURN(std::string proxy, ProxyOf(*hub, zone, flags.proxy));
  CW_ASSIGN_OR_RETURN(Json answer,
                      hub->Post(StrCat("/v1/zones/", zone, "/proxies/", proxy, "/explain"), body));
  if (flags.output == "json") {
    std::cout << answer.dump(2) << "\n";
  } else if (flags.output == "yaml") {
    std::cout << model::JsonToYaml(answer);
  } else {
    PrintText(answer);
  }
  return absl::OkStatus();
}

}  // namespace

void AddExplainCommand(CLI::App& app, Globals* globals) {
  static ExplainFlags flags;
  CLI::App* cmd = AddVerb(
      app, "explain",
      "Show where a request would go on a proxy: its domain, route, rule, clusters and "
      "instances, and why (from the same translation the proxy is sent)",
      "  causeway explain -z dev-local --proxy dev-proxy http://demo.turbinelabs.io:8888/api/x\n"
      "  causeway explain -z dev-local demo.turbinelabs.io:8888/api -H 'x-canary: 1' "
      "--cookie beta=yes\n"
      "  causeway explain -z dev-local --proxy dev-proxy -X POST demo.example:80/orders -o json\n"
      "Exits 5 when no domain or route matches (the message says which).");
  cmd->add_option("target", flags.target,
                  "http://HOST[:PORT]/PATH[?QUERY] or HOST[:PORT]/PATH: the Host and path sent")
      ->required();
  cmd->add_option("-z,--zone", flags.zone, "Zone (default: the context's)");
  cmd->add_option("--proxy", flags.proxy, "Proxy (default: the zone's only one)");
  cmd->add_option("-X,--method", flags.method, "Request method (default GET)");
  cmd->add_option("-H,--header", flags.headers, "A request header \"Name: value\" (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("-b,--cookie", flags.cookies, "A cookie name=value (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("-o,--output", flags.output, "text (default), json or yaml")
      ->check(CLI::IsMember({"text", "json", "yaml"}));
  AddConnectionFlags(cmd, globals);
  cmd->callback([globals] { RunVerb([&] { return RunExplain(*globals, flags); }); });
}

}  // namespace causeway::cli
