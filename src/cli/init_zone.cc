#include "cli/init_zone.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "cli/output.h"
#include "common/status.h"
#include "common/strings.h"
#include "model/documents.h"

namespace causeway::cli {
namespace {

using model::Json;

struct RouteFlag {
  std::string flag;
  std::string domain;
  std::string path;
  std::string cluster;
};

absl::StatusOr<RouteFlag> ParseRouteFlag(const std::string& text) {
  RouteFlag r;
  r.flag = text;
  size_t eq = text.rfind('=');
  if (eq == std::string::npos) {
    return UsageError(StrCat("--route ", text, ": expected HOST:PORT/PATH=CLUSTER"));
  }
  std::string target = text.substr(0, eq);
  r.cluster = text.substr(eq + 1);
  size_t slash = target.find('/');
  r.domain = absl::AsciiStrToLower(target.substr(0, slash));
  r.path = slash == std::string::npos ? "/" : target.substr(slash);
  if (!model::IsValidDomainName(r.domain)) {
    return UsageError(StrCat("--route ", text, ": \"", r.domain, "\" is not HOST:PORT"));
  }
  if (!model::IsValidName(r.cluster)) {
    return UsageError(
        StrCat("--route ", text, ": \"", r.cluster, "\" is not a valid cluster name"));
  }
  return r;
}

}  // namespace

std::string RouteName(const std::string& domain, const std::string& path) {
  std::string name;
  for (char c : domain + path) {
    char l = absl::ascii_tolower(static_cast<unsigned char>(c));
    bool ok = absl::ascii_isalnum(static_cast<unsigned char>(l)) || l == '.';
    // Everything else (':', '/', '_', …) becomes one '-'.
    if (ok) {
      name.push_back(l);
    } else if (!name.empty() && name.back() != '-') {
      name.push_back('-');
    }
  }
  while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
  if (name.size() > 253) name.resize(253);
  while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
  return name;
}

absl::StatusOr<std::vector<model::ParsedObject>> PlanInitZone(const InitZoneSpec& spec) {
  if (!model::IsValidName(spec.zone)) {
    return UsageError(StrCat("\"", spec.zone,
                             "\" is not a valid zone name (lowercase letters, digits, "
                             "'.' and '-')"));
  }
  std::vector<std::pair<std::string, Json>> docs;  // (flag, document)
  auto add = [&](const std::string& flag, std::string_view kind, Json body) {
    body["kind"] = kind;
    if (kind != "Zone") body["zone"] = spec.zone;
    docs.push_back({flag, std::move(body)});
  };

  std::vector<RouteFlag> routes;
  for (const std::string& text : spec.routes) {
    CW_ASSIGN_OR_RETURN(RouteFlag r, ParseRouteFlag(text));
    routes.push_back(std::move(r));
  }
  // Proxies in flag order; repeating a name adds domains to it.
  std::vector<std::string> proxy_order;
  std::map<std::string, std::vector<std::string>> proxy_domains;
  std::map<std::string, std::string> proxy_flag;
  for (const std::string& text : spec.proxies) {
    size_t eq = text.find('=');
    std::string name = text.substr(0, eq);
    if (!model::IsValidName(name)) {
      return UsageError(StrCat("--proxy ", text, ": \"", name, "\" is not a valid proxy name"));
    }
    if (!proxy_domains.count(name)) proxy_order.push_back(name);
    proxy_flag.emplace(name, StrCat("--proxy ", text));
    auto& domains = proxy_domains[name];
    if (eq != std::string::npos) {
      std::string domain = absl::AsciiStrToLower(text.substr(eq + 1));
      if (!model::IsValidDomainName(domain)) {
        return UsageError(StrCat("--proxy ", text, ": \"", domain, "\" is not HOST:PORT"));
      }
      if (std::find(domains.begin(), domains.end(), domain) == domains.end())
        domains.push_back(domain);
    }
  }

  add("ZONE", "Zone", {{"name", spec.zone}});

  std::vector<std::string> clusters;
  for (const RouteFlag& r : routes) {
    if (std::find(clusters.begin(), clusters.end(), r.cluster) == clusters.end())
      clusters.push_back(r.cluster);
  }
  if (!spec.route_group.empty() && clusters.size() > 1) {
    return UsageError(StrCat("--route-group ", spec.route_group,
                             " names one route group, but the routes go to ", clusters.size(),
                             " clusters; leave it out to get one group per cluster"));
  }
  for (const std::string& c : clusters) add(StrCat("--route …=", c), "Cluster", {{"name", c}});

  std::vector<std::string> domains;
  auto add_domain = [&](const std::string& d) {
    if (std::find(domains.begin(), domains.end(), d) == domains.end()) domains.push_back(d);
  };
  for (const std::string& p : proxy_order) {
    for (const std::string& d : proxy_domains[p]) add_domain(d);
  }
  for (const RouteFlag& r : routes) add_domain(r.domain);
  for (const std::string& d : domains) add(StrCat("domain ", d), "Domain", {{"name", d}});

  auto group_of = [&](const std::string& cluster) {
    return spec.route_group.empty() ? cluster : spec.route_group;
  };
  for (const std::string& c : clusters) {
    add(StrCat("--route …=", c), "RouteGroup",
        {{"name", group_of(c)}, {"default", Json::array({{{"cluster", c}}})}});
  }

  std::map<std::string, std::string> route_names;  // name → flag, to catch collisions
  for (const RouteFlag& r : routes) {
    std::string name = RouteName(r.domain, r.path);
    auto [it, inserted] = route_names.emplace(name, r.flag);
    if (!inserted) {
      return UsageError(StrCat("--route ", r.flag, " and --route ", it->second,
                               " would both be route \"", name, "\""));
    }
    add(StrCat("--route ", r.flag), "Route",
        {{"name", name},
         {"domain", r.domain},
         {"path", r.path},
         {"route_group", group_of(r.cluster)}});
  }
  for (const std::string& p : proxy_order) {
    add(proxy_flag[p], "Proxy", {{"name", p}, {"domains", proxy_domains[p]}});
  }

  std::vector<model::ParsedObject> out;
  for (const auto& [flag, body] : docs) {
    absl::StatusOr<model::ParsedObject> parsed = model::ParseAnyObject(body);
    if (!parsed.ok()) return UsageError(StrCat(flag, ": ", parsed.status().message()));
    out.push_back(*std::move(parsed));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const model::ParsedObject& a, const model::ParsedObject& b) {
                     return model::KindRank(a.key.kind) < model::KindRank(b.key.kind);
                   });
  return out;
}

}  // namespace causeway::cli
