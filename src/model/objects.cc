#include "model/objects.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"
#include "common/status.h"
#include "common/time_source.h"

namespace causeway::model {
namespace {

struct KindInfo {
  Kind kind;
  std::string_view name;
  std::string_view path;
};
constexpr KindInfo kKinds[] = {
    {Kind::kZone, "Zone", "zones"},
    {Kind::kProxy, "Proxy", "proxies"},
    {Kind::kDomain, "Domain", "domains"},
    {Kind::kRouteGroup, "RouteGroup", "route-groups"},
    {Kind::kRoute, "Route", "routes"},
    {Kind::kCluster, "Cluster", "clusters"},
    {Kind::kIntercept, "Intercept", "intercepts"},
};

const std::set<std::string, std::less<>> kMetadataFields = {"kind",    "name",       "zone",
                                                            "version", "created_at", "updated_at"};

// Reads the fields of one JSON object strictly: every key must be consumed by
// a Get*() call or be metadata, otherwise Finish() names the unknown field.
class Reader {
 public:
  Reader(const Json& j, std::string path) : j_(j), path_(std::move(path)) {}

  absl::Status CheckObject() const {
    if (!j_.is_object()) return FieldError(path_, "must be an object");
    return absl::OkStatus();
  }

  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : StrCat(path_, ".", key);
  }

  const Json* Find(std::string_view key) {
    seen_.insert(std::string(key));
    auto it = j_.find(std::string(key));
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  absl::Status String(std::string_view key, std::string* out, bool required) {
    const Json* v = Find(key);
    if (v == nullptr) {
      return required ? FieldError(Path(key), "is required") : absl::OkStatus();
    }
    if (!v->is_string()) return FieldError(Path(key), "must be a string");
    *out = v->get<std::string>();
    if (required && out->empty()) return FieldError(Path(key), "must not be empty");
    return absl::OkStatus();
  }

  absl::Status Uint(std::string_view key, uint32_t* out, bool required, uint32_t max) {
    const Json* v = Find(key);
    if (v == nullptr) {
      return required ? FieldError(Path(key), "is required") : absl::OkStatus();
    }
    if (!v->is_number_integer()) return FieldError(Path(key), "must be an integer");
    if (v->is_number_unsigned() ? v->get<uint64_t>() > max
                                : (v->get<int64_t>() < 0 || v->get<int64_t>() > max)) {
      return FieldError(Path(key), StrCat("must be between 0 and ", max));
    }
    *out = static_cast<uint32_t>(v->get<int64_t>());
    return absl::OkStatus();
  }

  absl::Status StringList(std::string_view key, std::vector<std::string>* out) {
    const Json* v = Find(key);
    if (v == nullptr) return absl::OkStatus();
    if (!v->is_array()) return FieldError(Path(key), "must be a list of strings");
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) {
        return FieldError(StrCat(Path(key), "[", i, "]"), "must be a string");
      }
      out->push_back((*v)[i].get<std::string>());
    }
    return absl::OkStatus();
  }

  absl::Status StringMap(std::string_view key, std::map<std::string, std::string>* out) {
    const Json* v = Find(key);
    if (v == nullptr) return absl::OkStatus();
    if (!v->is_object()) return FieldError(Path(key), "must be a map of strings");
    for (auto it = v->begin(); it != v->end(); ++it) {
      std::string p = StrCat(Path(key), ".", it.key());
      if (it.key().empty()) return FieldError(Path(key), "keys must not be empty");
      if (it->is_string()) {
        (*out)[it.key()] = it->get<std::string>();
      } else if (it->is_number() || it->is_boolean()) {
        (*out)[it.key()] = it->dump();  // YAML often types "1" or "true"
      } else {
        return FieldError(p, "must be a string");
      }
    }
    return absl::OkStatus();
  }

  // Runs `fn(element_json, element_path)` on each element of the list `key`.
  template <typename Fn>
  absl::Status List(std::string_view key, Fn fn) {
    const Json* v = Find(key);
    if (v == nullptr) return absl::OkStatus();
    if (!v->is_array()) return FieldError(Path(key), "must be a list");
    for (size_t i = 0; i < v->size(); ++i) {
      CW_RETURN_IF_ERROR(fn((*v)[i], StrCat(Path(key), "[", i, "]")));
    }
    return absl::OkStatus();
  }

  absl::Status Finish(bool allow_metadata) const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (seen_.count(it.key())) continue;
      if (allow_metadata && kMetadataFields.count(it.key())) continue;
      return FieldError(Path(it.key()), "unknown field");
    }
    return absl::OkStatus();
  }

 private:
  const Json& j_;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
};

bool IsDnsLabelChar(char c) {
  return std::islower(static_cast<unsigned char>(c)) ||
         std::isdigit(static_cast<unsigned char>(c)) || c == '-';
}

}  // namespace

bool IsValidHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    std::string_view label =
        host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), IsDnsLabelChar)) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

namespace {

// Aliases: exact host, "*.suffix" or "prefix.*".
bool IsValidAlias(std::string_view alias) {
  if (alias.size() > 2 && alias.substr(0, 2) == "*.") return IsValidHost(alias.substr(2));
  if (alias.size() > 2 && alias.substr(alias.size() - 2) == ".*") {
    return IsValidHost(alias.substr(0, alias.size() - 2));
  }
  return IsValidHost(alias);
}

absl::Status ParseTarget(const Json& j, const std::string& path, Target* t) {
  Reader r(j, path);
  CW_RETURN_IF_ERROR(r.CheckObject());
  CW_RETURN_IF_ERROR(r.String("cluster", &t->cluster, true));
  if (!IsValidName(t->cluster)) return FieldError(r.Path("cluster"), "is not a valid name");
  t->weight = 1;
  CW_RETURN_IF_ERROR(r.Uint("weight", &t->weight, false, 1000000));
  if (t->weight == 0) return FieldError(r.Path("weight"), "must be at least 1");
  CW_RETURN_IF_ERROR(r.StringMap("metadata", &t->metadata));
  return r.Finish(false);
}

absl::Status ParseTargets(Reader& r, std::string_view key, std::vector<Target>* out) {
  return r.List(key, [&](const Json& e, const std::string& p) {
    Target t;
    CW_RETURN_IF_ERROR(ParseTarget(e, p, &t));
    out->push_back(std::move(t));
    return absl::OkStatus();
  });
}

absl::Status ParseMatch(const Json& j, const std::string& path, Match* m) {
  Reader r(j, path);
  CW_RETURN_IF_ERROR(r.CheckObject());
  CW_RETURN_IF_ERROR(r.String("kind", &m->kind, true));
  if (m->kind != "header" && m->kind != "cookie" && m->kind != "query") {
    return FieldError(r.Path("kind"),
                      StrCat("must be header, cookie or query, not \"", m->kind, "\""));
  }
  CW_RETURN_IF_ERROR(r.String("key", &m->key, true));
  m->behavior = "exact";
  CW_RETURN_IF_ERROR(r.String("behavior", &m->behavior, false));
  static const std::set<std::string> kBehaviors = {"exact", "prefix", "suffix", "regex", "present"};
  if (!kBehaviors.count(m->behavior)) {
    return FieldError(
        r.Path("behavior"),
        StrCat("must be exact, prefix, suffix, regex or present, not \"", m->behavior, "\""));
  }
  CW_RETURN_IF_ERROR(r.String("value", &m->value, false));
  if (m->behavior != "present" && m->value.empty()) {
    return FieldError(r.Path("value"), "is required unless behavior is present");
  }
  if (m->kind == "header") m->key = absl::AsciiStrToLower(m->key);
  return r.Finish(false);
}

absl::Status ParseRule(const Json& j, const std::string& path, Rule* rule) {
  Reader r(j, path);
  CW_RETURN_IF_ERROR(r.CheckObject());
  CW_RETURN_IF_ERROR(r.StringList("methods", &rule->methods));
  for (size_t i = 0; i < rule->methods.size(); ++i) {
    std::string& m = rule->methods[i];
    m = absl::AsciiStrToUpper(m);
    if (m.empty() || !std::all_of(m.begin(), m.end(), [](char c) {
          return std::isupper(static_cast<unsigned char>(c));
        })) {
      return FieldError(StrCat(r.Path("methods"), "[", i, "]"), "is not an HTTP method");
    }
  }
  CW_RETURN_IF_ERROR(r.List("matches", [&](const Json& e, const std::string& p) {
    Match m;
    CW_RETURN_IF_ERROR(ParseMatch(e, p, &m));
    rule->matches.push_back(std::move(m));
    return absl::OkStatus();
  }));
  CW_RETURN_IF_ERROR(ParseTargets(r, "targets", &rule->targets));
  if (rule->targets.empty()) return FieldError(r.Path("targets"), "must name at least one target");
  return r.Finish(false);
}

absl::Status ParseRules(Reader& r, std::vector<Rule>* out) {
  return r.List("rules", [&](const Json& e, const std::string& p) {
    Rule rule;
    CW_RETURN_IF_ERROR(ParseRule(e, p, &rule));
    out->push_back(std::move(rule));
    return absl::OkStatus();
  });
}

constexpr uint32_t kMaxTimeoutMs = 24 * 3600 * 1000;

absl::Status ParseRetryPolicy(Reader& r, std::optional<RetryPolicy>* out) {
  const Json* v = r.Find("retry_policy");
  if (v == nullptr) return absl::OkStatus();
  Reader rr(*v, r.Path("retry_policy"));
  CW_RETURN_IF_ERROR(rr.CheckObject());
  RetryPolicy p;
  CW_RETURN_IF_ERROR(rr.Uint("num_retries", &p.num_retries, false, 100));
  CW_RETURN_IF_ERROR(rr.Uint("per_try_timeout_ms", &p.per_try_timeout_ms, false, kMaxTimeoutMs));
  CW_RETURN_IF_ERROR(rr.Uint("timeout_ms", &p.timeout_ms, false, kMaxTimeoutMs));
  CW_RETURN_IF_ERROR(rr.Finish(false));
  *out = p;
  return absl::OkStatus();
}

Json TargetsToJson(const std::vector<Target>& targets) {
  Json a = Json::array();
  for (const Target& t : targets) {
    Json j = {{"cluster", t.cluster}, {"weight", t.weight}};
    j["metadata"] = t.metadata.empty() ? Json::object() : Json(t.metadata);
    a.push_back(std::move(j));
  }
  return a;
}

Json RulesToJson(const std::vector<Rule>& rules) {
  Json a = Json::array();
  for (const Rule& rule : rules) {
    Json matches = Json::array();
    for (const Match& m : rule.matches) {
      matches.push_back(
          {{"kind", m.kind}, {"key", m.key}, {"value", m.value}, {"behavior", m.behavior}});
    }
    a.push_back({{"methods", rule.methods},
                 {"matches", matches},
                 {"targets", TargetsToJson(rule.targets)}});
  }
  return a;
}

Json RetryToJson(const std::optional<RetryPolicy>& p) {
  if (!p) return nullptr;
  return {{"num_retries", p->num_retries},
          {"per_try_timeout_ms", p->per_try_timeout_ms},
          {"timeout_ms", p->timeout_ms}};
}

// --- per-kind spec parsers (body → typed) ----------------------------------

absl::Status ParseZoneSpec(Reader& r, Zone* z) {
  return r.String("description", &z->description, false);
}

absl::Status ParseProxySpec(Reader& r, Proxy* p) {
  CW_RETURN_IF_ERROR(r.StringList("domains", &p->domains));
  std::set<std::string> seen;
  for (size_t i = 0; i < p->domains.size(); ++i) {
    std::string f = StrCat("domains[", i, "]");
    if (!IsValidDomainName(p->domains[i]))
      return FieldError(f, StrCat("\"", p->domains[i], "\" is not host:port"));
    if (!seen.insert(p->domains[i]).second)
      return FieldError(f, StrCat("\"", p->domains[i], "\" is listed twice"));
  }
  return absl::OkStatus();
}

// Reads the optional policy `key` with `parse` (see cluster_policies.h).
template <typename T>
absl::Status ParsePolicy(Reader& r, std::string_view key,
                         absl::Status (*parse)(const Json&, std::string_view, T*),
                         std::optional<T>* out) {
  const Json* v = r.Find(key);
  if (v == nullptr) return absl::OkStatus();
  T policy;
  CW_RETURN_IF_ERROR(parse(*v, r.Path(key), &policy));
  *out = std::move(policy);
  return absl::OkStatus();
}

absl::Status ParseDomainSpec(Reader& r, Domain* d) {
  CW_RETURN_IF_ERROR(r.String("host", &d->host, false));
  CW_RETURN_IF_ERROR(r.Uint("port", &d->port, false, 65535));
  CW_RETURN_IF_ERROR(r.StringList("aliases", &d->aliases));
  for (size_t i = 0; i < d->aliases.size(); ++i) {
    d->aliases[i] = absl::AsciiStrToLower(d->aliases[i]);
    if (!IsValidAlias(d->aliases[i])) {
      return FieldError(StrCat("aliases[", i, "]"),
                        StrCat("\"", d->aliases[i], "\" is not a host, *.suffix or prefix.*"));
    }
  }
  return ParsePolicy(r, "tls", ParseDownstreamTls, &d->tls);
}

absl::Status ParseRouteGroupSpec(Reader& r, RouteGroup* g) {
  CW_RETURN_IF_ERROR(ParseTargets(r, "default", &g->default_targets));
  CW_RETURN_IF_ERROR(ParseRules(r, &g->rules));
  CW_RETURN_IF_ERROR(ParseRetryPolicy(r, &g->retry_policy));
  if (g->default_targets.empty() && g->rules.empty()) {
    return FieldError("default", "a route group needs a default target or at least one rule");
  }
  return absl::OkStatus();
}

absl::Status ParseRouteSpec(Reader& r, Route* rt) {
  CW_RETURN_IF_ERROR(r.String("domain", &rt->domain, true));
  if (!IsValidDomainName(rt->domain))
    return FieldError("domain", StrCat("\"", rt->domain, "\" is not host:port"));
  rt->path = "/";
  CW_RETURN_IF_ERROR(r.String("path", &rt->path, false));
  if (rt->path.empty() || rt->path.front() != '/') return FieldError("path", "must start with /");
  if (rt->path.find_first_of(" ?#\t\r\n") != std::string::npos) {
    return FieldError("path", "must be a plain path prefix (no spaces, ? or #)");
  }
  CW_RETURN_IF_ERROR(r.String("route_group", &rt->route_group, true));
  if (!IsValidName(rt->route_group)) return FieldError("route_group", "is not a valid name");
  CW_RETURN_IF_ERROR(ParseRules(r, &rt->rules));
  CW_RETURN_IF_ERROR(ParseRetryPolicy(r, &rt->retry_policy));
  CW_RETURN_IF_ERROR(r.Uint("timeout_ms", &rt->timeout_ms, false, kMaxTimeoutMs));
  return absl::OkStatus();
}

absl::Status ParseInstance(const Json& j, const std::string& path, Instance* in) {
  Reader r(j, path);
  CW_RETURN_IF_ERROR(r.CheckObject());
  CW_RETURN_IF_ERROR(r.String("host", &in->host, true));
  in->host = absl::AsciiStrToLower(in->host);
  bool ipv6 = in->host.find(':') != std::string::npos;  // IPv6 literal
  if (!ipv6 && !IsValidHost(in->host))
    return FieldError(r.Path("host"), StrCat("\"", in->host, "\" is not a host name or address"));
  CW_RETURN_IF_ERROR(r.Uint("port", &in->port, true, 65535));
  if (in->port == 0) return FieldError(r.Path("port"), "must be between 1 and 65535");
  CW_RETURN_IF_ERROR(r.StringMap("metadata", &in->metadata));
  in->weight = 1;
  CW_RETURN_IF_ERROR(r.Uint("weight", &in->weight, false, UINT32_MAX));
  if (in->weight < 1 || in->weight > kMaxInstanceWeight) {
    return FieldError(r.Path("weight"), StrCat("must be between 1 and ", kMaxInstanceWeight));
  }
  return r.Finish(false);
}

absl::Status ParseClusterSpec(Reader& r, Cluster* c) {
  CW_RETURN_IF_ERROR(ParsePolicy(r, "health_check", ParseHealthCheck, &c->health_check));
  CW_RETURN_IF_ERROR(
      ParsePolicy(r, "outlier_detection", ParseOutlierDetection, &c->outlier_detection));
  CW_RETURN_IF_ERROR(
      ParsePolicy(r, "circuit_breakers", ParseCircuitBreakers, &c->circuit_breakers));
  CW_RETURN_IF_ERROR(ParsePolicy(r, "tls", ParseUpstreamTls, &c->tls));
  if (const Json* protocol = r.Find("protocol"); protocol != nullptr) {
    CW_RETURN_IF_ERROR(ParseClusterProtocol(*protocol, "protocol", &c->protocol));
  }
  // ALPN is an extension of the TLS handshake: in clear text nothing can
  // choose the protocol.
  if (c->protocol == ClusterProtocol::kAuto && !c->tls) {
    return FieldError("protocol", "\"auto\" needs tls (the protocol is chosen by TLS ALPN)");
  }
  const Json* v = r.Find("instances");
  if (v == nullptr) return absl::OkStatus();
  CW_ASSIGN_OR_RETURN(c->instances, InstancesFromJson(*v));
  return absl::OkStatus();
}

// Parses the spec part of `body` for `kind` into canonical JSON.
absl::StatusOr<Json> CanonicalSpec(Kind kind, const Json& body, const std::string& name) {
  Reader r(body, "");
  switch (kind) {
    case Kind::kZone: {
      Zone v;
      CW_RETURN_IF_ERROR(ParseZoneSpec(r, &v));
      CW_RETURN_IF_ERROR(r.Finish(true));
      return ToSpec(v);
    }
    case Kind::kProxy: {
      Proxy v;
      CW_RETURN_IF_ERROR(ParseProxySpec(r, &v));
      CW_RETURN_IF_ERROR(r.Finish(true));
      return ToSpec(v);
    }
    case Kind::kDomain: {
      Domain v;
      CW_RETURN_IF_ERROR(ParseDomainSpec(r, &v));
      CW_RETURN_IF_ERROR(r.Finish(true));
      return ToSpec(v);
    }
    case Kind::kRouteGroup: {
      RouteGroup v;
      CW_RETURN_IF_ERROR(ParseRouteGroupSpec(r, &v));
      CW_RETURN_IF_ERROR(r.Finish(true));
      return ToSpec(v);
    }
    case Kind::kRoute: {
      Route v;
      CW_RETURN_IF_ERROR(ParseRouteSpec(r, &v));
      CW_RETURN_IF_ERROR(r.Finish(true));
      return ToSpec(v);
    }
    case Kind::kCluster: {
      Cluster v;
      CW_RETURN_IF_ERROR(ParseClusterSpec(r, &v));
      CW_RETURN_IF_ERROR(r.Finish(true));
      return ToSpec(v);
    }
    case Kind::kIntercept: {
      CW_ASSIGN_OR_RETURN(Intercept v, ParseIntercept(body, /*allow_metadata=*/true));
      return ToSpec(v);
    }
  }
  return absl::InternalError("unknown kind");
}

absl::StatusOr<std::string> OptionalStringField(const Json& body, std::string_view key) {
  auto it = body.find(std::string(key));
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return FieldError(key, "must be a string");
  return it->get<std::string>();
}

}  // namespace

std::string_view KindName(Kind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "?";
}

std::string_view KindPath(Kind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.path;
  }
  return "?";
}

std::optional<Kind> ParseKind(std::string_view text) {
  std::string t = absl::AsciiStrToLower(ToAbsl(text));
  t = absl::StrReplaceAll(t, {{"-", ""}, {"_", ""}});
  for (const auto& k : kKinds) {
    std::string name = absl::AsciiStrToLower(ToAbsl(k.name));
    std::string path = absl::StrReplaceAll(std::string(k.path), {{"-", ""}});
    if (t == name || t == path) return k.kind;
  }
  if (t == "rg") return Kind::kRouteGroup;
  return std::nullopt;
}

std::string KeyString(const ObjectKey& key) {
  if (key.kind == Kind::kZone) return StrCat("Zone ", key.name);
  return StrCat(KindName(key.kind), " ", key.zone, "/", key.name);
}

Json ToApiJson(const Object& object) {
  Json j = Json::object();
  j["kind"] = KindName(object.key.kind);
  j["name"] = object.key.name;
  if (object.key.kind != Kind::kZone) j["zone"] = object.key.zone;
  j["version"] = std::to_string(object.version);
  j["created_at"] = FormatRfc3339(
      std::chrono::system_clock::time_point(std::chrono::milliseconds(object.created_at_ms)));
  j["updated_at"] = FormatRfc3339(
      std::chrono::system_clock::time_point(std::chrono::milliseconds(object.updated_at_ms)));
  for (auto it = object.spec.begin(); it != object.spec.end(); ++it) j[it.key()] = it.value();
  return j;
}

Json ToSpec(const Zone& v) { return {{"description", v.description}}; }
Json ToSpec(const Proxy& v) { return {{"domains", v.domains}}; }
Json ToSpec(const Domain& v) {
  Json j = {{"host", v.host}, {"port", v.port}, {"aliases", v.aliases}};
  // Only when given, so specs written before TLS existed stay canonical.
  if (v.tls) j["tls"] = ToJson(*v.tls);
  return j;
}
Json ToSpec(const RouteGroup& v) {
  return {{"default", TargetsToJson(v.default_targets)},
          {"rules", RulesToJson(v.rules)},
          {"retry_policy", RetryToJson(v.retry_policy)}};
}
Json ToSpec(const Route& v) {
  return {{"domain", v.domain},
          {"path", v.path},
          {"route_group", v.route_group},
          {"rules", RulesToJson(v.rules)},
          {"retry_policy", RetryToJson(v.retry_policy)},
          {"timeout_ms", v.timeout_ms}};
}
Json ToSpec(const Cluster& v) {
  Json j = {{"instances", InstancesToJson(v.instances)}};
  // Only when given, so specs written before the policies existed stay
  // canonical (and their versions unchanged).
  if (v.health_check) j["health_check"] = ToJson(*v.health_check);
  if (v.outlier_detection) j["outlier_detection"] = ToJson(*v.outlier_detection);
  if (v.circuit_breakers) j["circuit_breakers"] = ToJson(*v.circuit_breakers);
  if (v.tls) j["tls"] = ToJson(*v.tls);
  if (v.protocol != ClusterProtocol::kHttp1) j["protocol"] = std::string(ProtocolName(v.protocol));
  return j;
}

Json InstancesToJson(const std::vector<Instance>& instances) {
  Json a = Json::array();
  for (const Instance& in : instances) {
    Json j = {{"host", in.host}, {"port", in.port}};
    j["metadata"] = in.metadata.empty() ? Json::object() : Json(in.metadata);
    // Only when not the default, so specs written before weights existed
    // stay canonical (and their versions unchanged).
    if (in.weight != 1) j["weight"] = in.weight;
    a.push_back(std::move(j));
  }
  return a;
}

absl::StatusOr<std::vector<Instance>> InstancesFromJson(const Json& j) {
  if (!j.is_array()) return FieldError("instances", "must be a list");
  std::vector<Instance> out;
  std::set<std::pair<std::string, uint32_t>> seen;
  for (size_t i = 0; i < j.size(); ++i) {
    Instance in;
    std::string path = StrCat("instances[", i, "]");
    CW_RETURN_IF_ERROR(ParseInstance(j[i], path, &in));
    if (!seen.insert({in.host, in.port}).second) {
      return FieldError(path, StrCat(in.host, ":", in.port, " is listed twice"));
    }
    out.push_back(std::move(in));
  }
  // Canonical order, so that equal sets compare equal and versions are stable.
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// The typed view of a stored object: its spec parsed by `parse`, and its name
// from the key for the kinds that carry one (a Domain's is host:port).
template <typename T>
absl::StatusOr<T> TypedView(const Object& o, absl::Status (*parse)(Reader&, T*)) {
  T v;
  if constexpr (requires { v.name; }) v.name = o.key.name;
  Reader r(o.spec, "");
  CW_RETURN_IF_ERROR(parse(r, &v));
  return v;
}

}  // namespace

absl::StatusOr<Zone> ZoneFromObject(const Object& o) { return TypedView(o, ParseZoneSpec); }
absl::StatusOr<Proxy> ProxyFromObject(const Object& o) { return TypedView(o, ParseProxySpec); }
absl::StatusOr<Domain> DomainFromObject(const Object& o) { return TypedView(o, ParseDomainSpec); }
absl::StatusOr<RouteGroup> RouteGroupFromObject(const Object& o) {
  return TypedView(o, ParseRouteGroupSpec);
}
absl::StatusOr<Route> RouteFromObject(const Object& o) { return TypedView(o, ParseRouteSpec); }
absl::StatusOr<Cluster> ClusterFromObject(const Object& o) {
  return TypedView(o, ParseClusterSpec);
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  auto alnum = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
  };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '.' || c == '-'; });
}

bool IsValidDomainName(std::string_view name) {
  size_t colon = name.rfind(':');
  if (colon == std::string_view::npos || name.size() > 253) return false;
  uint32_t port = 0;
  std::string_view port_text = name.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), ::isdigit))
    return false;
  if (!absl::SimpleAtoi(ToAbsl(port_text), &port) || port == 0 || port > 65535) return false;
  return IsValidHost(name.substr(0, colon));
}

namespace {

// A domain's name is derived: host:port. The body may give host+port, the
// name (`given`, from the path or the body), or both (then they must agree).
absl::Status DeriveDomainName(const std::string& given, ParsedObject* out) {
  std::string host = out->spec["host"].get<std::string>();
  uint32_t port = out->spec["port"].get<uint32_t>();
  if (host.empty() && port == 0 && !given.empty()) {
    if (!IsValidDomainName(given))
      return FieldError("name", StrCat("\"", given, "\" is not host:port"));
    size_t colon = given.rfind(':');
    host = given.substr(0, colon);
    if (!absl::SimpleAtoi(given.substr(colon + 1), &port)) {
      return FieldError("name", StrCat("\"", given, "\" is not host:port"));
    }
  }
  host = absl::AsciiStrToLower(host);
  if (host.empty()) return FieldError("host", "is required");
  if (!IsValidHost(host)) return FieldError("host", StrCat("\"", host, "\" is not a host name"));
  if (port == 0) return FieldError("port", "is required (1-65535)");
  out->spec["host"] = host;
  out->spec["port"] = port;
  out->key.name = StrCat(host, ":", port);
  if (!given.empty() && given != out->key.name) {
    return FieldError("name",
                      StrCat("is \"", given, "\" but host and port say \"", out->key.name, "\""));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParsedObject> ParseObject(Kind kind, const Json& body, std::string_view zone,
                                         std::string_view name) {
  if (!body.is_object()) return FieldError("", "the body must be a JSON object");
  ParsedObject out;
  out.key.kind = kind;

  CW_ASSIGN_OR_RETURN(std::string body_kind, OptionalStringField(body, "kind"));
  if (!body_kind.empty()) {
    auto k = ParseKind(body_kind);
    if (!k || *k != kind) {
      return FieldError("kind", StrCat("is \"", body_kind, "\" but this is a ", KindName(kind)));
    }
  }

  CW_ASSIGN_OR_RETURN(std::string body_name, OptionalStringField(body, "name"));
  CW_ASSIGN_OR_RETURN(std::string body_zone, OptionalStringField(body, "zone"));
  if (kind == Kind::kZone) {
    if (!body_zone.empty() && body_zone != body_name && !body_name.empty()) {
      return FieldError("zone", "a Zone has no zone field");
    }
  } else {
    if (!zone.empty() && !body_zone.empty() && body_zone != zone) {
      return FieldError("zone", StrCat("is \"", body_zone, "\" but the path says \"", zone, "\""));
    }
    out.key.zone = !zone.empty() ? std::string(zone) : body_zone;
    if (out.key.zone.empty()) return FieldError("zone", "is required");
    if (!IsValidName(out.key.zone))
      return FieldError("zone", StrCat("\"", out.key.zone, "\" is not a valid name"));
  }

  CW_ASSIGN_OR_RETURN(out.spec, CanonicalSpec(kind, body, body_name));

  if (kind == Kind::kDomain) {
    CW_RETURN_IF_ERROR(DeriveDomainName(!name.empty() ? std::string(name) : body_name, &out));
  } else {
    if (!name.empty() && !body_name.empty() && body_name != name) {
      return FieldError("name", StrCat("is \"", body_name, "\" but the path says \"", name, "\""));
    }
    out.key.name = !name.empty() ? std::string(name) : body_name;
    if (out.key.name.empty()) return FieldError("name", "is required");
    if (!IsValidName(out.key.name)) {
      return FieldError("name",
                        StrCat("\"", out.key.name,
                               "\" is not a valid name (lowercase letters, digits, '.' and '-', "
                               "starting and ending with a letter or digit, at most 253)"));
    }
  }
  if (kind == Kind::kZone) out.key.zone = out.key.name;

  auto v = body.find("version");
  if (v != body.end() && !v->is_null()) {
    int64_t version = 0;
    if (v->is_number_integer()) {
      version = v->get<int64_t>();
    } else if (!v->is_string() || !absl::SimpleAtoi(v->get<std::string>(), &version)) {
      return FieldError("version", "must be the version string the object was read with");
    }
    out.version = version;
  }
  return out;
}

absl::StatusOr<ParsedObject> ParseAnyObject(const Json& body) {
  if (!body.is_object()) return FieldError("", "the document must be an object");
  auto it = body.find("kind");
  if (it == body.end() || !it->is_string())
    return FieldError("kind",
                      "is required (Zone, Proxy, Domain, RouteGroup, Route, Cluster or Intercept)");
  auto kind = ParseKind(it->get<std::string>());
  if (!kind) return FieldError("kind", StrCat("unknown kind \"", it->get<std::string>(), "\""));
  return ParseObject(*kind, body, "", "");
}

std::vector<Reference> ReferencesOf(const ObjectKey& key, const Json& spec) {
  std::vector<Reference> refs;
  auto add = [&](Kind kind, const std::string& name, std::string field) {
    refs.push_back({ObjectKey{kind, key.zone, name}, std::move(field)});
  };
  auto add_targets = [&](const Json& targets, const std::string& prefix) {
    if (!targets.is_array()) return;
    for (size_t i = 0; i < targets.size(); ++i) {
      add(Kind::kCluster, targets[i].value("cluster", ""), StrCat(prefix, "[", i, "].cluster"));
    }
  };
  auto add_rules = [&](const Json& rules) {
    if (!rules.is_array()) return;
    for (size_t i = 0; i < rules.size(); ++i) {
      add_targets(rules[i].value("targets", Json::array()), StrCat("rules[", i, "].targets"));
    }
  };
  switch (key.kind) {
    case Kind::kProxy: {
      const Json& domains = spec.value("domains", Json::array());
      for (size_t i = 0; i < domains.size(); ++i) {
        add(Kind::kDomain, domains[i].get<std::string>(), StrCat("domains[", i, "]"));
      }
      break;
    }
    case Kind::kRouteGroup:
      add_targets(spec.value("default", Json::array()), "default");
      add_rules(spec.value("rules", Json::array()));
      break;
    case Kind::kRoute:
      add(Kind::kDomain, spec.value("domain", ""), "domain");
      add(Kind::kRouteGroup, spec.value("route_group", ""), "route_group");
      add_rules(spec.value("rules", Json::array()));
      break;
    default:
      break;
  }
  return refs;
}

}  // namespace causeway::model
