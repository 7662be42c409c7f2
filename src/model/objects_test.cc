#include "model/objects.h"

#include <gtest/gtest.h>

#include "common/status.h"

namespace causeway::model {
namespace {

Json J(const char* text) { return Json::parse(text); }

TEST(Kinds, ParseAliases) {
  EXPECT_EQ(ParseKind("RouteGroup"), Kind::kRouteGroup);
  EXPECT_EQ(ParseKind("route-groups"), Kind::kRouteGroup);
  EXPECT_EQ(ParseKind("route_group"), Kind::kRouteGroup);
  EXPECT_EQ(ParseKind("proxies"), Kind::kProxy);
  EXPECT_EQ(ParseKind("Cluster"), Kind::kCluster);
  EXPECT_FALSE(ParseKind("pods").has_value());
  EXPECT_EQ(KindPath(Kind::kRouteGroup), "route-groups");
}

TEST(Names, Validity) {
  EXPECT_TRUE(IsValidName("dev-local"));
  EXPECT_TRUE(IsValidName("a.b-c9"));
  EXPECT_FALSE(IsValidName("Dev"));
  EXPECT_FALSE(IsValidName("-a"));
  EXPECT_FALSE(IsValidName("a-"));
  EXPECT_FALSE(IsValidName(""));
  EXPECT_FALSE(IsValidName(std::string(254, 'a')));
  EXPECT_TRUE(IsValidDomainName("demo.turbinelabs.io:8888"));
  EXPECT_FALSE(IsValidDomainName("demo.turbinelabs.io"));
  EXPECT_FALSE(IsValidDomainName("demo:0"));
  EXPECT_FALSE(IsValidDomainName("demo:70000"));
}

TEST(Parse, DomainNameDerivedFromHostAndPort) {
  auto p = ParseObject(Kind::kDomain,
                       J(R"({"host":"Demo.turbinelabs.io","port":8888,"aliases":["*.demo"]})"),
                       "dev-local", "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->key.name, "demo.turbinelabs.io:8888");
  EXPECT_EQ(p->key.zone, "dev-local");
  auto from_name = ParseObject(Kind::kDomain, J(R"({})"), "dev-local", "demo.turbinelabs.io:8888");
  ASSERT_TRUE(from_name.ok()) << from_name.status();
  EXPECT_EQ(from_name->spec["host"], "demo.turbinelabs.io");
  EXPECT_EQ(from_name->spec["port"], 8888);
  auto mismatch = ParseObject(Kind::kDomain, J(R"({"host":"a.io","port":80})"), "z", "b.io:80");
  EXPECT_EQ(ErrorField(mismatch.status()), "name");
}

TEST(Parse, UnknownFieldNamed) {
  auto p = ParseObject(Kind::kRoute,
                       J(R"({"name":"api","domain":"a.io:80","route_group":"default","colour":1})"),
                       "z", "");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ErrorField(p.status()), "colour");
  EXPECT_NE(p.status().message().find("unknown field"), std::string::npos);
}

TEST(Parse, NestedFieldErrorsNameThePath) {
  auto p = ParseObject(
      Kind::kRouteGroup,
      J(R"({"name":"g","rules":[{"targets":[{"cluster":"a"}]},{"targets":[{"cluster":"b","weight":"x"}]}]})"),
      "z", "");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ErrorField(p.status()), "rules[1].targets[0].weight");
  auto m = ParseObject(
      Kind::kRoute,
      J(R"({"name":"r","domain":"a.io:80","route_group":"g","rules":[{"matches":[{"kind":"body","key":"k","value":"v"}],"targets":[{"cluster":"a"}]}]})"),
      "z", "");
  EXPECT_EQ(ErrorField(m.status()), "rules[0].matches[0].kind");
}

TEST(Parse, WrongTypesAndBadNames) {
  EXPECT_EQ(
      ErrorField(
          ParseObject(Kind::kProxy, J(R"({"name":"p","domains":"a.io:80"})"), "z", "").status()),
      "domains");
  EXPECT_EQ(ErrorField(ParseObject(Kind::kProxy, J(R"({"name":"P_1"})"), "z", "").status()),
            "name");
  EXPECT_EQ(
      ErrorField(ParseObject(Kind::kRoute,
                             J(R"({"name":"r","domain":"a.io:80","route_group":"g","path":"api"})"),
                             "z", "")
                     .status()),
      "path");
  EXPECT_EQ(ErrorField(ParseObject(Kind::kCluster,
                                   J(R"({"name":"c","instances":[{"host":"10.0.0.1","port":0}]})"),
                                   "z", "")
                           .status()),
            "instances[0].port");
  EXPECT_EQ(ErrorField(ParseObject(Kind::kProxy, J(R"({"name":"p"})"), "", "").status()), "zone");
  EXPECT_EQ(
      ErrorField(ParseObject(Kind::kProxy, J(R"({"name":"p","zone":"a"})"), "b", "").status()),
      "zone");
}

TEST(Parse, CanonicalFormFillsDefaultsAndSortsInstances) {
  auto a = ParseObject(
      Kind::kCluster,
      J(R"({"name":"c","instances":[{"host":"10.0.0.2","port":80},{"host":"10.0.0.1","port":80,"metadata":{"v":1}}]})"),
      "z", "");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->spec["instances"][0]["host"], "10.0.0.1");
  EXPECT_EQ(a->spec["instances"][0]["metadata"]["v"], "1");
  auto r =
      ParseObject(Kind::kRoute, J(R"({"name":"r","domain":"a.io:80","route_group":"g"})"), "z", "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->spec["path"], "/");
  EXPECT_EQ(r->spec["timeout_ms"], 0);
  // Canonical specs parse again to the same canonical spec.
  Object o{r->key, 1, 0, 0, r->spec};
  auto again = ParseObject(Kind::kRoute, ToApiJson(o), "", "");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->spec, r->spec);
  EXPECT_EQ(again->version, 1);
}

TEST(Parse, InstanceWeight) {
  auto parse = [](const std::string& instance) {
    std::string body = R"({"name":"c","instances":[)" + instance + "]}";
    return ParseObject(Kind::kCluster, J(body.c_str()), "z", "");
  };
  auto weighted = parse(R"({"host":"10.0.0.1","port":80,"weight":3})");
  ASSERT_TRUE(weighted.ok()) << weighted.status();
  EXPECT_EQ(weighted->spec["instances"][0]["weight"], 3);
  auto cluster = ClusterFromObject(Object{weighted->key, 1, 0, 0, weighted->spec});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  EXPECT_EQ(cluster->instances[0].weight, 3u);

  // The default (1) is not written, so specs from before weights keep their form.
  auto plain = parse(R"({"host":"10.0.0.1","port":80,"weight":1})");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->spec["instances"][0].contains("weight"));
  cluster = ClusterFromObject(Object{plain->key, 1, 0, 0, plain->spec});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  EXPECT_EQ(cluster->instances[0].weight, 1u);
  EXPECT_TRUE(parse(R"({"host":"10.0.0.1","port":80,"weight":128})").ok());

  for (const char* bad : {"0", "129", "-1", "1.5", "\"2\""}) {
    auto p = parse(std::string(R"({"host":"10.0.0.1","port":80,"weight":)") + bad + "}");
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(ErrorField(p.status()), "instances[0].weight") << bad;
  }
  std::string message(parse(R"({"host":"a","port":1,"weight":0})").status().message());
  EXPECT_NE(message.find("between 1 and 128"), std::string::npos) << message;
}

absl::StatusOr<ParsedObject> ParsePolicyCluster(const std::string& fields) {
  std::string body = R"({"name":"c","instances":[{"host":"10.0.0.1","port":80}])" + fields + "}";
  return ParseObject(Kind::kCluster, J(body.c_str()), "z", "");
}

TEST(ClusterPolicies, ParseFillDefaultsAndRoundTrip) {
  auto p = ParsePolicyCluster(R"(,"health_check":{"path":"/healthz","interval_ms":2000},)"
                              R"("outlier_detection":{"consecutive_5xx":3},)"
                              R"("circuit_breakers":{"max_requests":2})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->spec["health_check"], J(R"({"path":"/healthz","interval_ms":2000,"timeout_ms":1000,)"
                                       R"("healthy_threshold":2,"unhealthy_threshold":3})"));
  EXPECT_EQ(p->spec["outlier_detection"],
            J(R"({"consecutive_5xx":3,"base_ejection_ms":30000,"max_ejection_percent":10})"));
  EXPECT_EQ(p->spec["circuit_breakers"],
            J(R"({"max_connections":1024,"max_pending_requests":1024,"max_requests":2,)"
              R"("max_retries":3})"));
  auto cluster = ClusterFromObject(Object{p->key, 1, 0, 0, p->spec});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE(cluster->health_check && cluster->outlier_detection && cluster->circuit_breakers);
  EXPECT_EQ(cluster->health_check->path, "/healthz");
  EXPECT_EQ(cluster->outlier_detection->consecutive_5xx, 3u);
  EXPECT_EQ(cluster->circuit_breakers->max_requests, 2u);
  EXPECT_EQ(ToSpec(*cluster), p->spec);
}

TEST(ClusterPolicies, RetryBudgetIsOptionalWithEnvoysDefaults) {
  auto p = ParsePolicyCluster(R"(,"circuit_breakers":{"retry_budget":{"budget_percent":25}})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->spec["circuit_breakers"]["retry_budget"],
            J(R"({"budget_percent":25,"min_retry_concurrency":3})"));
  auto cluster = ClusterFromObject(Object{p->key, 1, 0, 0, p->spec});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE(cluster->circuit_breakers->retry_budget);
  EXPECT_EQ(cluster->circuit_breakers->retry_budget->budget_percent, 25u);
  EXPECT_EQ(ToSpec(*cluster), p->spec);
  auto plain = ParsePolicyCluster(R"(,"circuit_breakers":{"max_retries":2})");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->spec["circuit_breakers"].contains("retry_budget"));
}

TEST(ClusterPolicies, OmittedWhenAbsent) {
  auto p = ParsePolicyCluster("");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->spec.contains("health_check"));
  EXPECT_FALSE(p->spec.contains("outlier_detection"));
  EXPECT_FALSE(p->spec.contains("circuit_breakers"));
  auto cluster = ClusterFromObject(Object{p->key, 1, 0, 0, p->spec});
  ASSERT_TRUE(cluster.ok());
  EXPECT_FALSE(cluster->health_check || cluster->outlier_detection || cluster->circuit_breakers);
}

TEST(ClusterPolicies, BadValuesNameFieldAndValue) {
  struct BadPolicyCase {
    const char* fields;
    const char* field;
    const char* says;
  };
  const BadPolicyCase cases[] = {
      {R"(,"health_check":{"interval_ms":5})", "health_check.path", "required"},
      {R"(,"health_check":{"path":"healthz"})", "health_check.path", "\"healthz\""},
      {R"(,"health_check":{"path":"/h","timeout_ms":0})", "health_check.timeout_ms", "not 0"},
      {R"(,"health_check":{"path":"/h","interval_ms":3600001})", "health_check.interval_ms",
       "between 1 and 3600000"},
      {R"(,"health_check":{"path":"/h","healthy_threshold":101})", "health_check.healthy_threshold",
       "not 101"},
      {R"(,"health_check":{"path":"/h","unhealthy_threshold":0})",
       "health_check.unhealthy_threshold", "between 1 and 100"},
      {R"(,"health_check":"/h")", "health_check", "object"},
      {R"(,"outlier_detection":{"consecutive_5xx":0})", "outlier_detection.consecutive_5xx",
       "not 0"},
      {R"(,"outlier_detection":{"max_ejection_percent":101})",
       "outlier_detection.max_ejection_percent", "between 0 and 100"},
      {R"(,"outlier_detection":{"base_ejection_ms":"30s"})", "outlier_detection.base_ejection_ms",
       "\"30s\""},
      {R"(,"outlier_detection":{"interval_ms":10})", "outlier_detection.interval_ms", "unknown"},
      {R"(,"circuit_breakers":{"max_requests":1000001})", "circuit_breakers.max_requests",
       "between 1 and 1000000"},
      {R"(,"circuit_breakers":{"max_retries":-1})", "circuit_breakers.max_retries", "not -1"},
      {R"(,"circuit_breakers":{"retry_budget":{"budget_percent":0}})",
       "circuit_breakers.retry_budget.budget_percent", "between 1 and 100"},
      {R"(,"circuit_breakers":{"retry_budget":{"percent":10}})",
       "circuit_breakers.retry_budget.percent", "unknown"},
      {R"(,"circuit_breakers":{"retry_budget":20})", "circuit_breakers.retry_budget", "object"},
  };
  for (const BadPolicyCase& c : cases) {
    auto p = ParsePolicyCluster(c.fields);
    ASSERT_FALSE(p.ok()) << c.fields;
    EXPECT_EQ(ErrorField(p.status()), c.field) << c.fields;
    EXPECT_NE(p.status().message().find(c.says), std::string::npos) << p.status();
  }
  EXPECT_TRUE(ParsePolicyCluster(R"(,"outlier_detection":{"max_ejection_percent":0})").ok());
}

TEST(Parse, DuplicateInstanceRejected) {
  auto p = ParseObject(
      Kind::kCluster,
      J(R"({"name":"c","instances":[{"host":"a","port":1},{"host":"a","port":1}]})"), "z", "");
  EXPECT_EQ(ErrorField(p.status()), "instances[1]");
}

TEST(References, RouteNamesDomainGroupAndClusters) {
  auto r = ParseObject(
      Kind::kRoute,
      J(R"({"name":"r","domain":"a.io:80","route_group":"g","rules":[{"targets":[{"cluster":"c1"}]}]})"),
      "z", "");
  ASSERT_TRUE(r.ok());
  auto refs = ReferencesOf(r->key, r->spec);
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0].target, (ObjectKey{Kind::kDomain, "z", "a.io:80"}));
  EXPECT_EQ(refs[1].field, "route_group");
  EXPECT_EQ(refs[2].field, "rules[0].targets[0].cluster");
  EXPECT_EQ(refs[2].target.name, "c1");
}

TEST(TypedViews, RoundTrip) {
  auto g = ParseObject(
      Kind::kRouteGroup,
      J(R"({"name":"g","default":[{"cluster":"a","weight":80},{"cluster":"b","weight":20,"metadata":{"stage":"canary"}}],"retry_policy":{"num_retries":2}})"),
      "z", "");
  ASSERT_TRUE(g.ok()) << g.status();
  Object o{g->key, 3, 0, 0, g->spec};
  auto typed = RouteGroupFromObject(o);
  ASSERT_TRUE(typed.ok());
  EXPECT_EQ(typed->name, "g");
  ASSERT_EQ(typed->default_targets.size(), 2u);
  EXPECT_EQ(typed->default_targets[1].metadata.at("stage"), "canary");
  ASSERT_TRUE(typed->retry_policy.has_value());
  EXPECT_EQ(typed->retry_policy->num_retries, 2u);
  EXPECT_EQ(ToSpec(*typed), g->spec);
}

}  // namespace
}  // namespace causeway::model
