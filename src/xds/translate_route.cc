// Domain -> VirtualHost: routes, rule matches, targets, retry policy.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/status.h"
#include "common/strings.h"
#include "google/protobuf/util/time_util.h"
#include "re2/re2.h"
#include "xds/translate_internal.h"

namespace causeway::xds::internal {
namespace {

using envoy::config::route::v3::HeaderMatcher;
using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteAction;
using envoy::config::route::v3::VirtualHost;
using envoy::type::matcher::v3::StringMatcher;
using google::protobuf::util::TimeUtil;

// Retries on the failures a staging service shows when an instance goes away.
constexpr char kRetryOn[] = "connect-failure,reset,5xx";

absl::Status CheckRegex(const std::string& regex, std::string_view what) {
  RE2 re(regex, RE2::Quiet);
  if (!re.ok()) {
    return absl::FailedPreconditionError(
        StrCat(what, ": invalid regex \"", regex, "\": ", re.error()));
  }
  return absl::OkStatus();
}

void SetRegex(std::string regex, StringMatcher* out) {
  // google_re2 is deprecated and RE2 is the default engine: leave it unset.
  out->mutable_safe_regex()->set_regex(std::move(regex));
}

// Fills `out` for a header or query match. Returns false for "present" (and
// for an empty prefix/suffix, which Envoy rejects and which every value
// satisfies): the caller then sets present_match instead.
absl::StatusOr<bool> FillStringMatcher(const model::Match& match, std::string_view what,
                                       StringMatcher* out) {
  const std::string& behavior = match.behavior;
  if (behavior.empty() || behavior == "exact") {
    out->set_exact(match.value);
  } else if (behavior == "prefix") {
    if (match.value.empty()) return false;
    out->set_prefix(match.value);
  } else if (behavior == "suffix") {
    if (match.value.empty()) return false;
    out->set_suffix(match.value);
  } else if (behavior == "regex") {
    CW_RETURN_IF_ERROR(CheckRegex(match.value, what));
    SetRegex(match.value, out);
  } else if (behavior == "present") {
    return false;
  } else {
    return absl::FailedPreconditionError(
        StrCat(what, ": unknown match behavior \"", behavior, "\""));
  }
  return true;
}

// A cookie match is a regex over the whole `cookie` header ("a=1; b=2"):
// Envoy has no cookie matcher, and a header regex is understood by Envoy and
// gRPC alike. The regex must match the entire header value.
absl::StatusOr<std::string> CookieRegex(const model::Match& match, std::string_view what) {
  const std::string key = RE2::QuoteMeta(match.key);
  const std::string value = RE2::QuoteMeta(match.value);
  std::string value_pattern;
  const std::string& behavior = match.behavior;
  if (behavior.empty() || behavior == "exact") {
    value_pattern = value;
  } else if (behavior == "prefix") {
    value_pattern = StrCat(value, "[^;]*");
  } else if (behavior == "suffix") {
    value_pattern = StrCat("[^;]*", value);
  } else if (behavior == "regex") {
    CW_RETURN_IF_ERROR(CheckRegex(match.value, what));
    value_pattern = StrCat("(?:", match.value, ")");
  } else if (behavior == "present") {
    value_pattern = "[^;]*";
  } else {
    return absl::FailedPreconditionError(
        StrCat(what, ": unknown match behavior \"", behavior, "\""));
  }
  // Any cookies before it, the cookie itself, then any after it.
  return StrCat(R"((?:.*;)?\s*)", key, "=", value_pattern, R"((?:;.*)?)");
}

absl::Status AddMatch(const model::Match& match, std::string_view what,
                      envoy::config::route::v3::RouteMatch* out) {
  if (match.kind == "header") {
    HeaderMatcher* header = out->add_headers();
    header->set_name(match.key);
    CW_ASSIGN_OR_RETURN(bool filled,
                        FillStringMatcher(match, what, header->mutable_string_match()));
    if (!filled) header->set_present_match(true);
  } else if (match.kind == "query") {
    auto* query = out->add_query_parameters();
    query->set_name(match.key);
    CW_ASSIGN_OR_RETURN(bool filled, FillStringMatcher(match, what, query->mutable_string_match()));
    if (!filled) query->set_present_match(true);
  } else if (match.kind == "cookie") {
    HeaderMatcher* header = out->add_headers();
    header->set_name("cookie");
    CW_ASSIGN_OR_RETURN(std::string regex, CookieRegex(match, what));
    SetRegex(std::move(regex), header->mutable_string_match());
  } else {
    return absl::FailedPreconditionError(StrCat(what, ": unknown match kind \"", match.kind, "\""));
  }
  return absl::OkStatus();
}

void AddMethods(const std::vector<std::string>& methods,
                envoy::config::route::v3::RouteMatch* out) {
  if (methods.empty()) return;
  HeaderMatcher* header = out->add_headers();
  header->set_name(":method");
  if (methods.size() == 1) {
    header->mutable_string_match()->set_exact(methods[0]);
    return;
  }
  std::vector<std::string> quoted;
  for (const std::string& method : methods) quoted.push_back(RE2::QuoteMeta(method));
  SetRegex(absl::StrJoin(quoted, "|"), header->mutable_string_match());
}

// Targets -> `cluster`, or `weighted_clusters` when there are several or a
// subset is selected (only a cluster weight carries metadata_match).
absl::Status SetTargets(const ZoneIndex& zone, const std::vector<model::Target>& targets,
                        std::string_view what, RouteAction* action) {
  for (size_t i = 0; i < targets.size(); ++i) {
    if (zone.FindCluster(targets[i].cluster) == nullptr) {
      return absl::FailedPreconditionError(
          StrCat(what, ".targets[", i, "]: Cluster \"", targets[i].cluster, "\" not found"));
    }
  }
  if (targets.size() == 1 && targets[0].metadata.empty()) {
    action->set_cluster(targets[0].cluster);
    return absl::OkStatus();
  }
  auto* weighted = action->mutable_weighted_clusters();
  uint32_t total = 0;
  for (const model::Target& target : targets) {
    auto* cluster = weighted->add_clusters();
    cluster->set_name(target.cluster);
    cluster->mutable_weight()->set_value(target.weight);
    if (!target.metadata.empty()) {
      *cluster->mutable_metadata_match() = LbMetadata(target.metadata);
    }
    total += target.weight;
  }
  if (total == 0) {
    return absl::FailedPreconditionError(StrCat(what, ": every target has weight 0"));
  }
  // Deprecated in Envoy (it uses the sum), but gRPC 1.51 still checks it
  // against the sum and assumes 100 when it is absent.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  weighted->mutable_total_weight()->set_value(total);
#pragma GCC diagnostic pop
  return absl::OkStatus();
}

void SetRetryAndTimeout(const model::Route& route, const model::RouteGroup& group,
                        RouteAction* action) {
  // The route's own policy replaces its group's.
  const std::optional<model::RetryPolicy>& policy =
      route.retry_policy ? route.retry_policy : group.retry_policy;
  uint32_t timeout_ms = route.timeout_ms;
  if (policy) {
    auto* retry = action->mutable_retry_policy();
    retry->set_retry_on(kRetryOn);
    // Always explicit: an unset num_retries means 1 to Envoy.
    retry->mutable_num_retries()->set_value(policy->num_retries);
    if (policy->per_try_timeout_ms > 0) {
      *retry->mutable_per_try_timeout() =
          TimeUtil::MillisecondsToDuration(policy->per_try_timeout_ms);
    }
    if (timeout_ms == 0) timeout_ms = policy->timeout_ms;
  }
  if (timeout_ms > 0) *action->mutable_timeout() = TimeUtil::MillisecondsToDuration(timeout_ms);
}

// One Envoy route: the route's prefix, the rule's matches (if any), targets.
absl::StatusOr<Route> MakeRoute(const ZoneIndex& zone, const model::Route& route,
                                const model::RouteGroup& group, const model::Rule* rule,
                                const std::vector<model::Target>& targets, std::string name,
                                std::string_view what) {
  Route out;
  out.set_name(std::move(name));
  out.mutable_match()->set_prefix(route.path);
  if (rule != nullptr) {
    AddMethods(rule->methods, out.mutable_match());
    for (size_t i = 0; i < rule->matches.size(); ++i) {
      CW_RETURN_IF_ERROR(
          AddMatch(rule->matches[i], StrCat(what, ".matches[", i, "]"), out.mutable_match()));
    }
  }
  RouteAction* action = out.mutable_route();
  CW_RETURN_IF_ERROR(SetTargets(zone, targets, what, action));
  SetRetryAndTimeout(route, group, action);
  return out;
}

// Before the route's own rules: for each intercept of a cluster the route
// sends to, one Envoy route per carrier of the key, named
// "ROUTE/intercept/NAME/CARRIER", with the route's prefix, retries and
// timeout.
absl::Status AddInterceptRoutes(const ZoneIndex& zone, const model::Route& route,
                                const model::RouteGroup& group, VirtualHost* out) {
  for (const model::Intercept* intercept : InterceptsOfRoute(zone, route, group)) {
    for (const InterceptRule& r : InterceptRules(*intercept)) {
      CW_ASSIGN_OR_RETURN(
          *out->add_routes(),
          MakeRoute(zone, route, group, &r.rule, r.rule.targets,
                    StrCat(route.name, "/intercept/", intercept->name, "/", r.carrier),
                    StrCat("Intercept \"", intercept->name, "\"")));
      AddInterceptHeader(*intercept, out->mutable_routes(out->routes_size() - 1));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<const model::RouteGroup*> GroupOf(const ZoneIndex& zone, const model::Route& route) {
  const model::RouteGroup* group = zone.FindRouteGroup(route.route_group);
  if (group == nullptr) {
    return absl::FailedPreconditionError(StrCat("Route \"", route.name,
                                                "\": route_group: RouteGroup \"", route.route_group,
                                                "\" not found"));
  }
  return group;
}

// Adds the Envoy routes of one causeway route, in match order: the route's
// rules, its group's rules, then the group's default. A rule or default
// without targets adds nothing: such requests fall through to shorter prefixes.
absl::Status AddRoutes(const ZoneIndex& zone, const model::Route& route, VirtualHost* out) {
  CW_ASSIGN_OR_RETURN(const model::RouteGroup* group, GroupOf(zone, route));
  // Envoy route names (shown in its admin output and stats): "ROUTE/rules/I"
  // for the route's rules, "ROUTE/GROUP/rules/I" for its group's,
  // "ROUTE/default".
  auto add_rules = [&](const std::vector<model::Rule>& rules, std::string_view owner,
                       std::string_view name_prefix) -> absl::Status {
    for (size_t i = 0; i < rules.size(); ++i) {
      if (rules[i].targets.empty()) continue;
      std::string what = StrCat(owner, ": rules[", i, "]");
      CW_ASSIGN_OR_RETURN(*out->add_routes(),
                          MakeRoute(zone, route, *group, &rules[i], rules[i].targets,
                                    StrCat(name_prefix, "rules/", i), what));
    }
    return absl::OkStatus();
  };
  CW_RETURN_IF_ERROR(AddInterceptRoutes(zone, route, *group, out));
  CW_RETURN_IF_ERROR(
      add_rules(route.rules, StrCat("Route \"", route.name, "\""), StrCat(route.name, "/")));
  CW_RETURN_IF_ERROR(add_rules(group->rules, StrCat("RouteGroup \"", group->name, "\""),
                               StrCat(route.name, "/", group->name, "/")));
  if (!group->default_targets.empty()) {
    CW_ASSIGN_OR_RETURN(*out->add_routes(),
                        MakeRoute(zone, route, *group, nullptr, group->default_targets,
                                  StrCat(route.name, "/default"),
                                  StrCat("RouteGroup \"", group->name, "\": default")));
  }
  return absl::OkStatus();
}

void AddTargetClusters(const std::vector<model::Target>& targets, std::set<std::string>* out) {
  for (const model::Target& target : targets) out->insert(target.cluster);
}

void AddRuleClusters(const std::vector<model::Rule>& rules, std::set<std::string>* out) {
  for (const model::Rule& rule : rules) AddTargetClusters(rule.targets, out);
}

}  // namespace

envoy::config::core::v3::Metadata LbMetadata(const std::map<std::string, std::string>& metadata) {
  envoy::config::core::v3::Metadata out;
  auto& fields =
      *(*out.mutable_filter_metadata())[std::string(kLbMetadataNamespace)].mutable_fields();
  for (const auto& [key, value] : metadata) fields[key].set_string_value(value);
  return out;
}

absl::StatusOr<VirtualHost> TranslateVirtualHost(const ZoneIndex& zone,
                                                 const model::Domain& domain) {
  VirtualHost out;
  const std::string name = domain.Name();
  out.set_name(name);
  // Clients send Host with or without the port; match both spellings.
  std::vector<std::string> names = {domain.host, name};
  for (const std::string& alias : domain.aliases) {
    names.push_back(alias);
    // "x.*" already matches any port (Envoy prefix wildcard); "x.*:8888"
    // would be an exact name that never matches.
    if (!alias.ends_with("*")) names.push_back(StrCat(alias, ":", domain.port));
  }
  std::set<std::string> seen;  // Envoy rejects a name listed twice
  for (std::string& n : names) {
    if (seen.insert(n).second) out.add_domains(std::move(n));
  }
  for (const model::Route& route : zone.RoutesOfDomain(name)) {
    CW_RETURN_IF_ERROR(AddRoutes(zone, route, &out));
  }
  return out;
}

absl::Status CollectClusters(const ZoneIndex& zone, const model::Domain& domain,
                             std::set<std::string>* clusters) {
  for (const model::Route& route : zone.RoutesOfDomain(domain.Name())) {
    CW_ASSIGN_OR_RETURN(const model::RouteGroup* group, GroupOf(zone, route));
    AddRuleClusters(route.rules, clusters);
    AddRuleClusters(group->rules, clusters);
    AddTargetClusters(group->default_targets, clusters);
    for (const model::Intercept* intercept : InterceptsOfRoute(zone, route, *group)) {
      clusters->insert(InterceptClusterName(intercept->name));
    }
  }
  return absl::OkStatus();
}

}  // namespace causeway::xds::internal
