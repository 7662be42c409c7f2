#include "serve/explain.h"

#include <charconv>
#include <memory>
#include <optional>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "common/strings.h"
#include "proxy/codec/http1.h"
#include "proxy/config/build_config.h"
#include "proxy/router/router.h"
#include "xds/translate.h"

namespace causeway::serve {
namespace {

using model::Json;

// The port of a Host value ("a.b:8888", "[::1]:80"), or nullopt without one.
std::optional<uint32_t> HostPort(std::string_view host) {
  const size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const size_t bracket = host.rfind(']');
  if (bracket != std::string_view::npos && bracket > colon) return std::nullopt;
  uint32_t port = 0;
  std::string_view digits = host.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return port;
}

// Listeners are named "PROXY:PORT" by the translation. A Host without a port
// is what a client sends to port 80; a proxy with one listener takes it there.
absl::StatusOr<const proxy::ListenerConfig*> ChooseListener(const proxy::ProxyConfig& config,
                                                            std::string_view proxy_name,
                                                            std::string_view host) {
  std::vector<std::string> names;
  for (const proxy::ListenerConfig& l : config.listeners) names.push_back(l.name);
  const std::string listening = names.empty() ? "it has no listener (no domain)"
                                              : StrCat("it has ", absl::StrJoin(names, ", "));
  std::optional<uint32_t> port = HostPort(host);
  if (!port && config.listeners.size() == 1) return &config.listeners[0];
  const std::string name = StrCat(proxy_name, ":", port.value_or(80));
  if (const proxy::ListenerConfig* l = config.FindListener(name)) return l;
  return absl::NotFoundError(StrCat("proxy \"", proxy_name, "\" has no listener ", name,
                                    port ? "" : " (the host names no port, so port 80)", ": ",
                                    listening));
}

// Where an Envoy route came from, read back from its name.
struct RouteOrigin {
  std::string route;        // causeway Route
  std::string route_group;  // "" when the rule is the route's own
  std::optional<size_t> rule;
  // "ROUTE/intercept/NAME/CARRIER": a routing key's route to an intercept.
  std::string intercept;
  std::string carrier;  // header | baggage | cookie
};

absl::StatusOr<RouteOrigin> OriginOf(std::string_view envoy_name) {
  std::vector<std::string> parts = absl::StrSplit(ToAbsl(envoy_name), '/');
  RouteOrigin origin;
  size_t index = 0;
  auto parse_index = [&](const std::string& text) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
    return ec == std::errc() && end == text.data() + text.size();
  };
  if (parts.size() == 2 && parts[1] == "default") {
    origin.route = parts[0];
    return origin;
  }
  if (parts.size() == 3 && parts[1] == "rules" && parse_index(parts[2])) {
    origin.route = parts[0];
    origin.rule = index;
    return origin;
  }
  if (parts.size() == 4 && parts[1] == "intercept" &&
      (parts[3] == "header" || parts[3] == "baggage" || parts[3] == "cookie")) {
    origin.route = parts[0];
    origin.intercept = parts[2];
    origin.carrier = parts[3];
    return origin;
  }
  if (parts.size() == 4 && parts[2] == "rules" && parse_index(parts[3])) {
    origin.route = parts[0];
    origin.route_group = parts[1];
    origin.rule = index;
    return origin;
  }
  return absl::InternalError(StrCat("route \"", envoy_name, "\" is not named as translated"));
}

std::string Quoted(std::string_view s) { return StrCat("\"", s, "\""); }

std::string DescribeMatch(const model::Match& m) {
  const std::string what = StrCat(m.kind, " ", m.key);
  const std::string& b = m.behavior;
  if (b == "present") return StrCat(what, " is present");
  if (b == "prefix") return StrCat(what, " starts with ", Quoted(m.value));
  if (b == "suffix") return StrCat(what, " ends with ", Quoted(m.value));
  if (b == "regex") return StrCat(what, " matches /", m.value, "/");
  return StrCat(what, " is ", Quoted(m.value));
}

// "method GET, header x-canary is "1" and cookie beta is "yes"".
std::string DescribeRule(const model::Rule& rule) {
  std::vector<std::string> parts;
  if (!rule.methods.empty())
    parts.push_back(StrCat("method ", absl::StrJoin(rule.methods, " or ")));
  for (const model::Match& m : rule.matches) parts.push_back(DescribeMatch(m));
  if (parts.empty()) return "any request";
  return absl::StrJoin(parts, ", ");
}

// The causeway objects behind one Envoy route of `domain`.
struct Origin {
  RouteOrigin names;
  const model::Route* route = nullptr;
  const model::RouteGroup* group = nullptr;  // the route's group
  const model::Rule* rule = nullptr;         // nullptr for the group's default
};

absl::StatusOr<Origin> Resolve(const xds::ZoneIndex& index, std::string_view domain,
                               std::string_view envoy_name) {
  Origin out;
  CW_ASSIGN_OR_RETURN(out.names, OriginOf(envoy_name));
  for (const model::Route& r : index.RoutesOfDomain(domain)) {
    if (r.name == out.names.route) out.route = &r;
  }
  if (out.route == nullptr) {
    return absl::InternalError(StrCat("route ", Quoted(out.names.route), " of ", envoy_name,
                                      " is not a route of ", domain));
  }
  out.group = index.FindRouteGroup(out.route->route_group);
  if (out.group == nullptr) return absl::InternalError("the route's group is gone");
  if (out.names.rule) {
    const std::vector<model::Rule>& rules =
        out.names.route_group.empty() ? out.route->rules : out.group->rules;
    if (*out.names.rule >= rules.size()) return absl::InternalError("rule index out of range");
    out.rule = &rules[*out.names.rule];
  }
  return out;
}

// "rule 1 of route group "main"" / "the default targets of route group "main"".
std::string RuleName(const Origin& o) {
  if (!o.names.rule) return StrCat("the default targets of route group ", Quoted(o.group->name));
  if (o.names.route_group.empty()) {
    return StrCat("rule ", *o.names.rule, " of route ", Quoted(o.route->name));
  }
  return StrCat("rule ", *o.names.rule, " of route group ", Quoted(o.group->name));
}

Json MetadataJson(const proxy::LbMetadata& metadata) {
  Json out = Json::object();
  for (const auto& [k, v] : metadata) out[k] = v;
  return out;
}

bool HasAll(const proxy::LbMetadata& have, const proxy::LbMetadata& want) {
  for (const auto& pair : want) {
    if (std::find(have.begin(), have.end(), pair) == have.end()) return false;
  }
  return true;
}

// The endpoints of `target`'s cluster carrying its metadata subset.
Json InstancesOf(const proxy::ProxyConfig& config, const proxy::ClusterTarget& target) {
  Json out = Json::array();
  const proxy::ClusterConfig* cluster = config.FindCluster(target.name);
  if (cluster == nullptr) return out;
  for (const proxy::Endpoint& e : cluster->endpoints) {
    if (!HasAll(e.metadata, target.metadata_match)) continue;
    out.push_back({{"host", e.address},
                   {"port", e.port},
                   {"weight", e.weight},
                   {"metadata", MetadataJson(e.metadata)}});
  }
  return out;
}

// The routes of `vhost` before `chosen` whose path matched but whose other
// conditions did not, in plain words.
std::vector<std::string> PassedOver(const xds::ZoneIndex& index, const proxy::VirtualHost& vhost,
                                    const proxy::Route* chosen, std::string_view target) {
  std::vector<std::string> out;
  for (const proxy::Route& r : vhost.routes) {
    if (&r == chosen) break;
    if (!proxy::PathMatches(r, target)) continue;
    absl::StatusOr<Origin> o = Resolve(index, vhost.name, r.name);
    if (!o.ok() || o->rule == nullptr) continue;
    out.push_back(StrCat(RuleName(*o), " (", DescribeRule(*o->rule), ")"));
  }
  return out;
}

std::string Reason(const Origin& o, const ExplainRequest& req, const proxy::Route& route,
                   const std::vector<std::string>& passed_over) {
  std::string out =
      StrCat("Host ", Quoted(req.host), " is domain ", Quoted(o.route->domain), "; path ",
             Quoted(req.path), " is under ", Quoted(o.route->path), ", the path of route ",
             Quoted(o.route->name), " (longer paths are tried first).");
  if (!passed_over.empty()) {
    out += StrCat(" Tried first and not matched: ", absl::StrJoin(passed_over, "; "), ".");
  }
  if (!o.names.intercept.empty()) {
    out += StrCat(" The request carries the routing key of intercept ", Quoted(o.names.intercept),
                  " (in its ", o.names.carrier,
                  "), whose routes come before the route's rules: it goes to the developer.");
  } else if (o.rule != nullptr) {
    out += StrCat(" The request matches ", RuleName(o), ": ", DescribeRule(*o.rule), ".");
  } else {
    out += StrCat(" No rule of the route or its group matches, so ", RuleName(o), " apply.");
  }
  if (route.clusters.size() == 1) {
    out += StrCat(" It goes to cluster ", Quoted(route.clusters[0].name));
    if (!route.clusters[0].metadata_match.empty()) {
      std::vector<std::string> pairs;
      for (const auto& [k, v] : route.clusters[0].metadata_match)
        pairs.push_back(StrCat(k, "=", v));
      out += StrCat(", instances with ", absl::StrJoin(pairs, ", "));
    }
    out += StrCat(".");
  } else if (!route.clusters.empty()) {
    std::vector<std::string> shares;
    for (const proxy::ClusterTarget& c : route.clusters) {
      shares.push_back(StrCat(Quoted(c.name), " ", c.weight, "/", route.total_weight));
    }
    out += StrCat(" It is split by weight: ", absl::StrJoin(shares, ", "), ".");
  }
  return out;
}

std::vector<std::string> PrefixesOf(const xds::ZoneIndex& index, std::string_view domain) {
  std::vector<std::string> out;
  for (const model::Route& r : index.RoutesOfDomain(domain)) {
    out.push_back(StrCat(r.path, " (route ", r.name, ")"));
  }
  return out;
}

// The resources with TLS taken out. Where a request goes does not depend on
// TLS, and the certificate files named by a domain's or cluster's tls live
// on the proxy's machine, not the hub's: the proxy's builder reads them and
// would refuse the configuration here. Each listener keeps one chain (they
// all carry the same connection manager).
void StripTls(xds::ProxyResources& resources) {
  for (auto& listener : resources.listeners) {
    if (listener.filter_chains_size() == 0) continue;
    envoy::config::listener::v3::FilterChain chain = listener.filter_chains(0);
    chain.clear_transport_socket();
    chain.clear_filter_chain_match();
    listener.clear_filter_chains();
    listener.clear_listener_filters();
    *listener.add_filter_chains() = std::move(chain);
  }
  for (auto& cluster : resources.clusters) cluster.clear_transport_socket();
}

}  // namespace

absl::StatusOr<Json> Explain(const std::vector<model::Object>& zone_objects,
                             std::string_view proxy_name, const ExplainRequest& req) {
  // What the xDS server sends this proxy (it translates the same way)...
  CW_ASSIGN_OR_RETURN(xds::ZoneIndex index, xds::ZoneIndex::Build(xds::ZoneView{zone_objects}));
  CW_ASSIGN_OR_RETURN(xds::ProxyResources resources, xds::TranslateProxy(index, proxy_name));
  StripTls(resources);
  // ...built into a routing table by the proxy's own code.
  absl::StatusOr<proxy::ProxyConfigSnapshot> config = proxy::BuildConfig(
      resources.listeners, resources.routes, resources.clusters, resources.endpoints);
  if (!config.ok()) {
    return absl::FailedPreconditionError(
        StrCat("the proxy would refuse its configuration: ", config.status().message()));
  }
  CW_ASSIGN_OR_RETURN(const proxy::ListenerConfig* listener,
                      ChooseListener(**config, proxy_name, req.host));
  const proxy::RouteTable* table = (*config)->RoutesFor(*listener);
  if (table == nullptr) return absl::InternalError("the listener has no route table");
  const proxy::VirtualHost* vhost = proxy::SelectVirtualHost(*table, req.host);
  if (vhost == nullptr) {
    std::vector<std::string> domains;
    for (const proxy::VirtualHost& v : table->virtual_hosts) domains.push_back(v.name);
    return absl::NotFoundError(StrCat("no domain of listener ", listener->name, " matches host ",
                                      Quoted(req.host), " (domains: ", absl::StrJoin(domains, ", "),
                                      ")"));
  }

  // The request as the proxy's router sees it: Host, the headers, cookies as
  // one Cookie header.
  std::vector<proxy::http1::Header> headers;
  headers.push_back({"host", req.host});
  for (const auto& [k, v] : req.headers) headers.push_back({k, v});
  std::string cookie;
  for (const auto& [k, v] : req.cookies) cookie += StrCat(cookie.empty() ? "" : "; ", k, "=", v);
  if (!cookie.empty()) headers.push_back({"cookie", cookie});
  proxy::RouteRequest rr;
  rr.method = req.method;
  rr.authority = req.host;
  rr.target = req.path;
  rr.headers = &headers;
  const proxy::Route* route = proxy::SelectRoute(*vhost, rr);
  if (route == nullptr) {
    const std::vector<std::string> prefixes = PrefixesOf(index, vhost->name);
    return absl::NotFoundError(
        StrCat("no route of domain ", Quoted(vhost->name), " matches ", req.method, " ", req.path,
               prefixes.empty() ? " (the domain has no routes)"
                                : StrCat(" (its routes: ", absl::StrJoin(prefixes, ", "), ")")));
  }
  CW_ASSIGN_OR_RETURN(Origin origin, Resolve(index, vhost->name, route->name));

  Json clusters = Json::array();
  Json all_instances = Json::array();
  for (const proxy::ClusterTarget& target : route->clusters) {
    Json instances = InstancesOf(**config, target);
    for (Json instance : instances) {
      if (route->clusters.size() > 1) instance["cluster"] = target.name;
      all_instances.push_back(std::move(instance));
    }
    clusters.push_back({{"name", target.name},
                        {"weight", target.weight},
                        {"metadata", MetadataJson(target.metadata_match)},
                        {"instances", std::move(instances)}});
  }
  Json out = {
      {"listener", listener->name},
      {"domain", origin.route->domain},
      {"virtual_host", vhost->name},
      {"route", origin.route->name},
      {"route_group", origin.group->name},
      {"rule", origin.names.rule ? Json(*origin.names.rule) : Json(nullptr)},
      {"rule_of", !origin.names.intercept.empty()    ? "intercept"
                  : !origin.names.rule               ? "default"
                  : origin.names.route_group.empty() ? "route"
                                                     : "route_group"},
      {"envoy_route", route->name},
      {"intercept", origin.names.intercept.empty() ? Json(nullptr) : Json(origin.names.intercept)},
      {"cluster", route->clusters.size() == 1 ? Json(route->clusters[0].name) : Json(nullptr)},
      {"clusters", std::move(clusters)},
      {"instances", std::move(all_instances)},
      {"reason", Reason(origin, req, *route, PassedOver(index, *vhost, route, req.path))},
  };
  return out;
}

}  // namespace causeway::serve
