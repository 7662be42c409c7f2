// Intercepts -> the routes that send a developer's requests to their tunnel,
// and the cluster behind them (docs/two-way-routing.md).
#include <set>
#include <string>
#include <vector>

#include "common/strings.h"
#include "re2/re2.h"
#include "xds/translate_internal.h"

namespace causeway::xds::internal {
namespace {

void AddTargets(const std::vector<model::Target>& targets, std::set<std::string>* out) {
  for (const model::Target& target : targets) out->insert(target.cluster);
}

// A rule with one match, sending to the intercept's cluster.
InterceptRule OneMatch(const model::Intercept& intercept, std::string carrier, model::Match match) {
  model::Rule rule;
  rule.matches.push_back(std::move(match));
  rule.targets.push_back(model::Target{.cluster = InterceptClusterName(intercept.name)});
  return InterceptRule{std::move(carrier), std::move(rule)};
}

}  // namespace

std::string InterceptClusterName(std::string_view intercept) {
  return StrCat(kInterceptClusterPrefix, intercept);
}

std::string BaggageKeyRegex(std::string_view key) {
  // W3C baggage: list members "key=value;properties" separated by commas,
  // with optional blanks around each piece. The entry must be a whole list
  // member: "causeway-key=KEYX" and "xcauseway-key=KEY" are other entries.
  return StrCat(R"((?:.*,)?[ \t]*)", RE2::QuoteMeta(std::string(model::kRoutingKeyBaggage)),
                R"([ \t]*=[ \t]*)", RE2::QuoteMeta(std::string(key)),
                R"([ \t]*(?:;[^,]*)?(?:,.*)?)");
}

std::vector<InterceptRule> InterceptRules(const model::Intercept& intercept) {
  std::vector<InterceptRule> rules;
  rules.push_back(
      OneMatch(intercept, "header",
               {"header", std::string(model::kRoutingKeyHeader), intercept.key, "exact"}));
  rules.push_back(OneMatch(intercept, "baggage",
                           {"header", "baggage", BaggageKeyRegex(intercept.key), "regex"}));
  // The cookie carrier reuses the rule translation of cookie matches.
  rules.push_back(
      OneMatch(intercept, "cookie",
               {"cookie", std::string(model::kRoutingKeyCookie), intercept.key, "exact"}));
  return rules;
}

void AddInterceptHeader(const model::Intercept& intercept, envoy::config::route::v3::Route* route) {
  envoy::config::core::v3::HeaderValueOption* add = route->add_request_headers_to_add();
  add->mutable_header()->set_key(std::string(kInterceptHeader));
  add->mutable_header()->set_value(intercept.name);
  // Overwrite: a client's own x-causeway-intercept must not pick the
  // intercept the holder serves.
  add->set_append_action(envoy::config::core::v3::HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
}

std::vector<const model::Intercept*> InterceptsOfRoute(const ZoneIndex& zone,
                                                       const model::Route& route,
                                                       const model::RouteGroup& group) {
  std::set<std::string> clusters;
  for (const model::Rule& rule : route.rules) AddTargets(rule.targets, &clusters);
  for (const model::Rule& rule : group.rules) AddTargets(rule.targets, &clusters);
  AddTargets(group.default_targets, &clusters);
  std::vector<const model::Intercept*> out;
  for (const std::string& cluster : clusters) {  // sorted: deterministic output
    for (const model::Intercept& intercept : zone.InterceptsOfCluster(cluster)) {
      out.push_back(&intercept);
    }
  }
  return out;
}

model::Cluster InterceptCluster(const model::Intercept& intercept) {
  model::Cluster cluster;
  cluster.name = InterceptClusterName(intercept.name);
  if (!intercept.tunnel) return cluster;
  // The address was checked on write: host:port.
  const std::string& address = intercept.tunnel->address;
  const size_t colon = address.rfind(':');
  model::Instance instance;
  instance.host = address.substr(0, colon);
  instance.port = static_cast<uint32_t>(std::stoul(address.substr(colon + 1)));
  cluster.instances.push_back(std::move(instance));
  return cluster;
}

}  // namespace causeway::xds::internal
