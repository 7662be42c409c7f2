#include "proxy/config/supported_fields.h"

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/unknown_field_set.h"
#include "proxy/config/routing_key_guard_config.h"

// WeightedCluster.total_weight is deprecated but still sent (gRPC reads it).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

// Names of their own namespace: a unity build compiles this file together
// with build_config.cc.
namespace causeway::proxy::supported_fields_internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using ConnectionManagerProto =
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

constexpr absl::string_view kRouterType = "envoy.extensions.filters.http.router.v3.Router";
constexpr absl::string_view kRouterName = "envoy.filters.http.router";
constexpr absl::string_view kHcmType =
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
constexpr absl::string_view kUpstreamTlsType =
    "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
constexpr absl::string_view kDownstreamTlsType =
    "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
constexpr absl::string_view kHttpProtocolOptionsType =
    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
constexpr absl::string_view kTlsInspectorType =
    "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector";

// How a set field is looked into once it is allowed.
enum class Walk {
  kValue,    // taken whole: a scalar, an enum (values limited by `only`), a
             // Duration, a wrapper or Metadata whose every part the proxy reads
  kMessage,  // its own fields are checked against its type's table
  kAny,      // an Any whose type must be in `only`; its payload is checked
  kCustom,   // checked by its message type's `extra` function
};
constexpr Walk kMsg = Walk::kMessage;
constexpr Walk kAny = Walk::kAny;

struct FieldRule {
  absl::string_view field;
  Walk walk = Walk::kValue;
  // For an enum: the value names implemented (empty: all of them). For an
  // Any: the full names of the message types it may hold.
  std::vector<absl::string_view> only = {};
};

// Where a field is, as a chain of links on the stack from the field up to
// the resource. Rendered ("filter_chains[0].transport_socket") only when an
// error names it: building the text for every field walked would cost more
// than the walk.
struct FieldPath {
  const FieldPath* parent = nullptr;  // nullptr: the resource itself
  absl::string_view field;
  int index = -1;  // of a repeated field's element; -1 for none

  std::string Render() const {
    if (parent == nullptr) return "";
    std::string out = parent->Render();
    if (!out.empty()) out += ".";
    absl::StrAppend(&out, field);
    if (index >= 0) absl::StrAppend(&out, "[", index, "]");
    return out;
  }
};

struct SupportedFieldsWalk;
using ExtraCheck = absl::Status (*)(const Message&, const FieldPath& path,
                                    const SupportedFieldsWalk&);

struct TypeRules {
  std::vector<FieldRule> fields;
  ExtraCheck extra = nullptr;  // what one field's rule cannot say alone
};
using RuleBook = absl::flat_hash_map<std::string, TypeRules>;  // by full message name

// The tables resolved against the descriptors, for the walk: a message's
// rules by its descriptor, a field's rule by its number.
struct ResolvedRules {
  const TypeRules* rules = nullptr;
  absl::flat_hash_map<int, const FieldRule*> by_number;
};
using ResolvedBook = absl::flat_hash_map<const Descriptor*, ResolvedRules>;

// One check: the resource it names in errors ("cluster 'api'": `kind`, then
// `name` quoted unless empty; rendered on error only) and the tables.
struct SupportedFieldsWalk {
  absl::string_view kind;
  absl::string_view name;
  const ResolvedBook* book;

  absl::Status Refuse(const FieldPath& path, absl::string_view what) const {
    std::string where = name.empty() ? std::string(kind) : absl::StrCat(kind, " '", name, "'");
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", path.Render(), what));
  }
  absl::Status CheckMessage(const google::protobuf::Message& m, const FieldPath& path) const;
  absl::Status CheckField(const google::protobuf::Message& m, const FieldDescriptor& f,
                          const FieldRule& rule, const FieldPath& path) const;
  absl::Status CheckElement(const google::protobuf::Message& m, const FieldDescriptor& f,
                            const FieldRule& rule, const FieldPath& path) const;
  absl::Status CheckAny(const google::protobuf::Message& any, const FieldRule& rule,
                        const FieldPath& path) const;
};

constexpr absl::string_view kNotSupported = " is not supported by causeway-proxy";

absl::string_view TypeNameOfUrl(absl::string_view type_url) {
  size_t slash = type_url.rfind('/');
  return slash == absl::string_view::npos ? type_url : type_url.substr(slash + 1);
}

// Listeners: one filter chain holding the HTTP connection manager.
void AddListenerRules(RuleBook& book) {
  book["envoy.config.listener.v3.Listener"] = {{
      {"name"},
      {"stat_prefix"},  // ignored because it only names statistics
      {"address", kMsg},
      {"filter_chains", kMsg},  // build_config: TLS chains by SNI, one plain chain
      {"listener_filters", kMsg},
  }};
  // The TLS inspector reads SNI from the ClientHello; it is the only
  // listener filter.
  book["envoy.config.listener.v3.ListenerFilter"] = {{
      {"name"},
      {"typed_config", kAny, {kTlsInspectorType}},
  }};
  book[std::string(kTlsInspectorType)] = {};
  book["envoy.config.core.v3.Address"] = {{{"socket_address", kMsg}}};
  book["envoy.config.core.v3.SocketAddress"] = {{
      {"protocol", Walk::kValue, {"TCP"}},
      {"address"},
      {"port_value"},
  }};
  // A chain with a DownstreamTlsContext serves TLS clients whose SNI is
  // among its server_names; the chain without a match serves clear text.
  book["envoy.config.listener.v3.FilterChain"] = {{
      {"name"},  // ignored because it only names the chain
      {"filters", kMsg},
      {"filter_chain_match", kMsg},
      {"transport_socket", kMsg},
  }};
  book["envoy.config.listener.v3.FilterChainMatch"] = {{
      {"server_names"}, {"transport_protocol"},  // build_config: "tls" only
  }};
  book["envoy.config.listener.v3.Filter"] = {{
      {"name"},  // the filter is chosen by its typed_config's type, as in Envoy
      {"typed_config", kAny, {kHcmType}},
  }};
}

absl::Status CheckHttpFilters(const Message& m, const FieldPath& path,
                              const SupportedFieldsWalk& walk);

// The HTTP connection manager: routes from RDS or inline, the router filter
// and three timeouts. codec_type: AUTO (HTTP/1.1 and HTTP/2), HTTP1 or
// HTTP2; not HTTP3.
void AddConnectionManagerRules(RuleBook& book) {
  book[std::string(kHcmType)] = {{
                                     {"codec_type", Walk::kValue, {"AUTO", "HTTP1", "HTTP2"}},
                                     {"stat_prefix"},  // ignored because it only names statistics
                                     {"rds", kMsg},
                                     {"route_config", kMsg},
                                     {"http_filters", Walk::kCustom},
                                     {"stream_idle_timeout"},
                                     {"request_headers_timeout"},
                                     {"request_timeout"},
                                 },
                                 CheckHttpFilters};
  book["envoy.extensions.filters.network.http_connection_manager.v3.Rds"] = {{
      {"route_config_name"},
      {"config_source", kMsg},
  }};
  book["envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter"] = {{
      {"name"},
      {"typed_config", kAny, {kRouterType}},
      {"is_optional"},  // CheckHttpFilters skips an optional filter it does not know
  }};
  // None of the router's options is implemented.
  book[std::string(kRouterType)] = {};
  // Only ADS: routes and endpoints come on the stream the listener came on.
  book["envoy.config.core.v3.ConfigSource"] = {{
      {"ads", kMsg},
      {"resource_api_version", Walk::kValue, {"AUTO", "V3"}},
  }};
  book["envoy.config.core.v3.AggregatedConfigSource"] = {};
}

// Route configurations down to the route's action.
void AddRouteRules(RuleBook& book) {
  book["envoy.config.route.v3.RouteConfiguration"] = {{
      {"name"},
      {"virtual_hosts", kMsg},
      {"request_headers_to_add", kMsg},
      {"request_headers_to_remove"},
      {"response_headers_to_add", kMsg},
      {"response_headers_to_remove"},
  }};
  book["envoy.config.route.v3.VirtualHost"] = {{
      {"name"},
      {"domains"},
      {"routes", kMsg},
      {"request_headers_to_add", kMsg},
      {"request_headers_to_remove"},
      {"response_headers_to_add", kMsg},
      {"response_headers_to_remove"},
      {"retry_policy", kMsg},
  }};
  book["envoy.config.route.v3.Route"] = {{
      {"name"},
      {"stat_prefix"},  // ignored because it only names statistics
      {"match", kMsg},
      {"route", kMsg},
      {"direct_response", kMsg},
      {"request_headers_to_add", kMsg},
      {"request_headers_to_remove"},
      {"response_headers_to_add", kMsg},
      {"response_headers_to_remove"},
  }};
  book["envoy.config.route.v3.RouteMatch"] = {{
      {"prefix"},
      {"path"},
      {"safe_regex", kMsg},
      {"case_sensitive"},
      {"headers", kMsg},
      {"query_parameters", kMsg},
  }};
  book["envoy.config.core.v3.HeaderValueOption"] = {{
      {"header", kMsg}, {"append"}, {"append_action"},  // all four actions are implemented
  }};
  book["envoy.config.core.v3.HeaderValue"] = {{{"key"}, {"value"}, {"raw_value"}}};
  book["envoy.config.route.v3.DirectResponseAction"] = {{{"status"}, {"body", kMsg}}};
  book["envoy.config.core.v3.DataSource"] = {{{"inline_string"}, {"inline_bytes"}}};
}

// Header, query and string matchers.
void AddMatcherRules(RuleBook& book) {
  book["envoy.config.route.v3.HeaderMatcher"] = {{
      {"name"},
      {"exact_match"},
      {"safe_regex_match", kMsg},
      {"range_match", kMsg},
      {"present_match"},
      {"prefix_match"},
      {"suffix_match"},
      {"contains_match"},
      {"string_match", kMsg},
      {"invert_match"},
  }};
  book["envoy.config.route.v3.QueryParameterMatcher"] = {{
      {"name"},
      {"string_match", kMsg},
      {"present_match"},
  }};
  book["envoy.type.matcher.v3.StringMatcher"] = {{
      {"exact"},
      {"prefix"},
      {"suffix"},
      {"safe_regex", kMsg},
      {"contains"},
      {"ignore_case"},
  }};
  book["envoy.type.matcher.v3.RegexMatcher"] = {{
      {"google_re2", kMsg},  // selects RE2, the only engine there is
      {"regex"},
  }};
  book["envoy.type.matcher.v3.RegexMatcher.GoogleRE2"] = {};  // max_program_size: not enforced
  book["envoy.type.v3.Int64Range"] = {{{"start"}, {"end"}}};
}

absl::Status CheckTotalWeight(const Message& m, const FieldPath& path,
                              const SupportedFieldsWalk& walk);

// The route's action: clusters, rewrites, timeout and retries.
void AddRouteActionRules(RuleBook& book) {
  book["envoy.config.route.v3.RouteAction"] = {{
      {"cluster"},
      {"weighted_clusters", kMsg},
      {"metadata_match"},  // its envoy.lb entries select endpoints (as in Envoy)
      {"prefix_rewrite"},
      {"host_rewrite_literal"},
      {"timeout"},
      {"retry_policy", kMsg},
  }};
  book["envoy.config.route.v3.WeightedCluster"] = {
      {
          {"clusters", kMsg}, {"total_weight"},  // CheckTotalWeight
      },
      CheckTotalWeight};
  book["envoy.config.route.v3.WeightedCluster.ClusterWeight"] = {{
      {"name"},
      {"weight"},
      {"metadata_match"},
  }};
  // retry_on conditions the proxy does not know are ignored (build_config).
  book["envoy.config.route.v3.RetryPolicy"] = {{
      {"retry_on"},
      {"num_retries"},
      {"per_try_timeout"},
  }};
}

// Clusters. type and lb_policy are checked value by value in build_config
// (with their own messages), so any value passes here.
void AddClusterRules(RuleBook& book) {
  book["envoy.config.cluster.v3.Cluster"] = {{
      {"name"},
      {"alt_stat_name"},  // ignored because it only names statistics
      {"type"},
      {"eds_cluster_config", kMsg},
      {"connect_timeout"},
      {"lb_policy"},
      {"least_request_lb_config", kMsg},
      {"load_assignment", kMsg},
      {"dns_refresh_rate"},
      {"dns_lookup_family"},  // every family is implemented
      {"lb_subset_config", kMsg},
      {"outlier_detection", kMsg},  // upstream/outlier_detector.h
      {"circuit_breakers", kMsg},   // upstream/circuit_breaker.h
      {"health_checks", kMsg},      // upstream/health_checker.h
      {"transport_socket", kMsg},   // config/tls_context.h
      // HttpProtocolOptions: HTTP/2 to the endpoints (upstream/http2_upstream.h).
      {"typed_extension_protocol_options", kMsg},
  }};
  book["envoy.config.cluster.v3.Cluster.TypedExtensionProtocolOptionsEntry"] = {{
      {"key"},  // build_config: the HttpProtocolOptions name only
      {"value", kAny, {kHttpProtocolOptionsType}},
  }};
  book[std::string(kHttpProtocolOptionsType)] = {{
      {"explicit_http_config", kMsg}, {"auto_config", kMsg},  // build_config: with TLS only
  }};
  book[absl::StrCat(kHttpProtocolOptionsType, ".ExplicitHttpConfig")] = {{
      {"http_protocol_options", kMsg},
      {"http2_protocol_options", kMsg},
  }};
  book[absl::StrCat(kHttpProtocolOptionsType, ".AutoHttpConfig")] = {{
      {"http_protocol_options", kMsg},
      {"http2_protocol_options", kMsg},
  }};
  // Present to choose the protocol; none of their settings is implemented
  // but the stream cap.
  book["envoy.config.core.v3.Http1ProtocolOptions"] = {{}};
  book["envoy.config.core.v3.Http2ProtocolOptions"] = {{{"max_concurrent_streams"}}};
  // One HTTP check; build_config refuses a second entry.
  book["envoy.config.core.v3.HealthCheck"] = {{
      {"timeout"},
      {"interval"},
      {"interval_jitter"},
      {"healthy_threshold"},
      {"unhealthy_threshold"},
      {"http_health_check", kMsg},
  }};
  book["envoy.config.core.v3.HealthCheck.HttpHealthCheck"] = {{
      {"path"},
      {"host"},
      {"expected_statuses"},
  }};
  // The consecutive-failure detectors. The other detectors' enforcing_*
  // fields and the jitter pass here so that they may switch those off;
  // build_config refuses any other value of them.
  book["envoy.config.cluster.v3.OutlierDetection"] = {{
      {"consecutive_5xx"},
      {"consecutive_gateway_failure"},
      {"interval"},
      {"base_ejection_time"},
      {"max_ejection_time"},
      {"max_ejection_percent"},
      {"enforcing_consecutive_5xx"},
      {"enforcing_consecutive_gateway_failure"},
      {"always_eject_one_host"},
      {"enforcing_success_rate"},
      {"enforcing_local_origin_success_rate"},
      {"enforcing_failure_percentage"},
      {"enforcing_failure_percentage_local_origin"},
      {"max_ejection_time_jitter"},
  }};
  book["envoy.config.cluster.v3.CircuitBreakers"] = {{{"thresholds", kMsg}}};
  book["envoy.config.cluster.v3.CircuitBreakers.Thresholds"] = {{
      {"priority", Walk::kValue, {"DEFAULT"}},
      {"max_connections"},
      {"max_pending_requests"},
      {"max_requests"},
      {"max_retries"},
      {"retry_budget", kMsg},
  }};
  book["envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget"] = {{
      {"budget_percent"},
      {"min_retry_concurrency"},
  }};
  book["envoy.config.cluster.v3.Cluster.EdsClusterConfig"] = {{
      {"eds_config", kMsg},
      {"service_name"},
  }};
  book["envoy.config.cluster.v3.Cluster.LeastRequestLbConfig"] = {{{"choice_count"}}};
  // A route's metadata_match picks the endpoints whose envoy.lb metadata hold
  // all of it, and none is a 503: NO_FALLBACK. The selectors are accepted as
  // declarations: the proxy matches any key set a route names.
  book["envoy.config.cluster.v3.Cluster.LbSubsetConfig"] = {{
      {"fallback_policy", Walk::kValue, {"NO_FALLBACK"}},
      {"subset_selectors", kMsg},
  }};
  book["envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetSelector"] = {{{"keys"}}};
}

// TLS (config/tls_context.h): certificates, keys and CAs from files.
void AddTlsRules(RuleBook& book) {
  book["envoy.config.core.v3.TransportSocket"] = {{
      {"name"},  // the socket is chosen by its typed_config's type, as in Envoy
      {"typed_config", kAny, {kUpstreamTlsType, kDownstreamTlsType}},
  }};
  book[std::string(kUpstreamTlsType)] = {{
      {"sni"},
      {"common_tls_context", kMsg},
  }};
  book[std::string(kDownstreamTlsType)] = {{
      {"common_tls_context", kMsg},
      {"require_client_certificate"},
  }};
  book["envoy.extensions.transport_sockets.tls.v3.CommonTlsContext"] = {{
      {"tls_certificates", kMsg},
      {"validation_context", kMsg},
      {"alpn_protocols"},
  }};
  book["envoy.extensions.transport_sockets.tls.v3.TlsCertificate"] = {{
      // DataSources: build_config takes a filename only (a route's direct
      // response takes inline text only, so the type has no one rule).
      {"certificate_chain"},
      {"private_key"},
  }};
  book["envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext"] = {{
      {"trusted_ca"},  // a filename (build_config)
      {"match_typed_subject_alt_names", kMsg},
  }};
  book["envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher"] = {{
      {"san_type", Walk::kValue, {"DNS"}}, {"matcher", kMsg},  // build_config: exact only
  }};
}

// Endpoints: one flat list per cluster.
void AddEndpointRules(RuleBook& book) {
  book["envoy.config.endpoint.v3.ClusterLoadAssignment"] = {{
      {"cluster_name"},
      {"endpoints", kMsg},
  }};
  // priority is not implemented (every endpoint is one flat list); a locality
  // weight is read by Envoy only under locality_weighted_lb_config, which is
  // not allowed, so it is ignored as Envoy would ignore it.
  book["envoy.config.endpoint.v3.LocalityLbEndpoints"] = {{
      {"locality"},  // ignored because it only describes where endpoints are
      {"lb_endpoints", kMsg},
      {"load_balancing_weight"},
  }};
  book["envoy.config.endpoint.v3.LbEndpoint"] = {{
      {"endpoint", kMsg},
      {"health_status"},  // UNHEALTHY, DRAINING and TIMEOUT take it out
      {"metadata"},       // its envoy.lb entries are matched by routes
      {"load_balancing_weight"},
  }};
  book["envoy.config.endpoint.v3.Endpoint"] = {{
      {"address", kMsg}, {"hostname"},  // ignored because it only describes the endpoint
  }};
}

const RuleBook& Book() {
  static const RuleBook* book = [] {
    auto* b = new RuleBook;
    AddListenerRules(*b);
    AddConnectionManagerRules(*b);
    AddRouteRules(*b);
    AddMatcherRules(*b);
    AddRouteActionRules(*b);
    AddClusterRules(*b);
    AddEndpointRules(*b);
    AddTlsRules(*b);
    return b;
  }();
  return *book;
}

const ResolvedBook& Resolved() {
  static const ResolvedBook* resolved = [] {
    auto* out = new ResolvedBook;
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    for (const auto& [type, rules] : Book()) {
      const Descriptor* d = pool->FindMessageTypeByName(type);
      if (d == nullptr) continue;  // CheckSupportedFieldTables says so
      ResolvedRules& r = (*out)[d];
      r.rules = &rules;
      for (const FieldRule& rule : rules.fields) {
        const FieldDescriptor* f = d->FindFieldByName(std::string(rule.field));
        if (f != nullptr) r.by_number[f->number()] = &rule;
      }
    }
    return out;
  }();
  return *resolved;
}

absl::Status SupportedFieldsWalk::CheckMessage(const google::protobuf::Message& m,
                                               const FieldPath& path) const {
  const Reflection* reflection = m.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown = reflection->GetUnknownFields(m);
  if (!unknown.empty()) {
    // A field of a newer Envoy API than the one built in: its meaning is
    // unknown, so it cannot be known to be harmless.
    std::string at = path.Render();
    return Refuse(FieldPath{}, absl::StrCat(at, at.empty() ? "" : ": ", "field number ",
                                            unknown.field(0).number(),
                                            " (unknown to this build's Envoy API)", kNotSupported));
  }
  auto it = book->find(m.GetDescriptor());
  if (it == book->end()) {
    return Refuse(path, absl::StrCat(" (", m.GetDescriptor()->full_name(), ")", kNotSupported));
  }
  if (it->second.rules->extra != nullptr) {
    if (absl::Status s = it->second.rules->extra(m, path, *this); !s.ok()) return s;
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    FieldPath fpath{&path, f->name()};
    auto rule = it->second.by_number.find(f->number());
    if (rule == it->second.by_number.end()) return Refuse(fpath, kNotSupported);
    if (absl::Status s = CheckField(m, *f, *rule->second, fpath); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status SupportedFieldsWalk::CheckField(const google::protobuf::Message& m,
                                             const FieldDescriptor& f, const FieldRule& rule,
                                             const FieldPath& path) const {
  if (rule.walk == Walk::kCustom) return absl::OkStatus();
  if (!f.is_repeated()) return CheckElement(m, f, rule, path);
  const int size = m.GetReflection()->FieldSize(m, &f);
  for (int i = 0; i < size; ++i) {
    FieldPath element{path.parent, path.field, i};
    if (absl::Status s = CheckElement(m, f, rule, element); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// One value of a field (the path's index says which of a repeated one).
absl::Status SupportedFieldsWalk::CheckElement(const google::protobuf::Message& m,
                                               const FieldDescriptor& f, const FieldRule& rule,
                                               const FieldPath& path) const {
  const Reflection* r = m.GetReflection();
  const int index = path.index;
  if (f.cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
    if (rule.only.empty()) return absl::OkStatus();
    const auto* value = index < 0 ? r->GetEnum(m, &f) : r->GetRepeatedEnum(m, &f, index);
    for (absl::string_view allowed : rule.only) {
      if (value->name() == allowed) return absl::OkStatus();
    }
    return Refuse(path, absl::StrCat(" ", value->name(), kNotSupported, " (only ",
                                     absl::StrJoin(rule.only, ", "), ")"));
  }
  if (f.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || rule.walk == Walk::kValue) {
    return absl::OkStatus();
  }
  const google::protobuf::Message& sub =
      index < 0 ? r->GetMessage(m, &f) : r->GetRepeatedMessage(m, &f, index);
  if (rule.walk == Walk::kAny) return CheckAny(sub, rule, path);
  return CheckMessage(sub, path);
}

absl::Status SupportedFieldsWalk::CheckAny(const google::protobuf::Message& any_message,
                                           const FieldRule& rule, const FieldPath& path) const {
  google::protobuf::Any any;
  any.CopyFrom(any_message);
  absl::string_view type = TypeNameOfUrl(any.type_url());
  bool allowed = false;
  for (absl::string_view t : rule.only) allowed = allowed || t == type;
  if (!allowed) return Refuse(path, absl::StrCat(" of type ", type, kNotSupported));
  const Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(type));
  const google::protobuf::Message* prototype =
      descriptor == nullptr
          ? nullptr
          : google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
  if (prototype == nullptr) return Refuse(path, absl::StrCat(" of type ", type, kNotSupported));
  std::unique_ptr<google::protobuf::Message> payload(prototype->New());
  if (!payload->ParseFromString(any.value())) {
    return Refuse(path, absl::StrCat(": cannot decode ", type));
  }
  return CheckMessage(*payload, path);
}

// The router must be the last filter, and is the only one implemented. An
// optional filter of any other type is skipped: `is_optional` is the control
// plane saying a client that lacks the filter may go without it (Envoy and
// gRPC read it the same way).
absl::Status CheckHttpFilters(const Message& m, const FieldPath& path,
                              const SupportedFieldsWalk& walk) {
  const auto* hcm = google::protobuf::DynamicCastToGenerated<ConnectionManagerProto>(&m);
  if (hcm == nullptr) return walk.Refuse(path, ": not an HttpConnectionManager");
  FieldRule rule{"http_filters", kMsg};
  for (int i = 0; i < hcm->http_filters_size(); ++i) {
    const auto& filter = hcm->http_filters(i);
    FieldPath fpath{&path, "http_filters", i};
    const bool router =
        filter.has_typed_config() && TypeNameOfUrl(filter.typed_config().type_url()) == kRouterType;
    if (!router) {
      // causeway's own filter, checked where it is built.
      if (filter.is_optional() || IsRoutingKeyGuardFilter(filter)) continue;
      std::string type = filter.has_typed_config()
                             ? std::string(TypeNameOfUrl(filter.typed_config().type_url()))
                             : "no typed_config";
      return walk.Refuse(
          fpath, absl::StrCat(" (http filter '", filter.name(), "', ", type, ")", kNotSupported,
                              "; only the router (", kRouterName, ") is"));
    }
    if (i != hcm->http_filters_size() - 1) {
      return walk.Refuse(fpath, ": the router must be the last http filter");
    }
    if (absl::Status s = walk.CheckMessage(filter, fpath); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Envoy requires a set total_weight to equal the sum of the weights; the
// proxy divides by the sum, so any other value would split traffic otherwise
// than Envoy would (or than Envoy would accept at all).
absl::Status CheckTotalWeight(const Message& m, const FieldPath& path,
                              const SupportedFieldsWalk& walk) {
  const auto* wc =
      google::protobuf::DynamicCastToGenerated<envoy::config::route::v3::WeightedCluster>(&m);
  if (wc == nullptr) return walk.Refuse(path, ": not a WeightedCluster");
  if (!wc->has_total_weight()) return absl::OkStatus();
  uint64_t sum = 0;
  for (const auto& c : wc->clusters()) sum += c.has_weight() ? c.weight().value() : 0;
  if (wc->total_weight().value() == sum) return absl::OkStatus();
  return walk.Refuse(FieldPath{&path, "total_weight"},
                     absl::StrCat(" ", wc->total_weight().value(),
                                  " is not the sum of the clusters' weights (", sum, ")"));
}

}  // namespace
}  // namespace causeway::proxy::supported_fields_internal

namespace causeway::proxy {

absl::Status CheckSupportedFields(const std::string& where,
                                  const google::protobuf::Message& message) {
  supported_fields_internal::SupportedFieldsWalk walk{where, "",
                                                      &supported_fields_internal::Resolved()};
  return walk.CheckMessage(message, supported_fields_internal::FieldPath{});
}

namespace {

// The check of one resource, naming it as "KIND 'NAME'".
absl::Status CheckResource(absl::string_view kind, absl::string_view name,
                           const google::protobuf::Message& message) {
  supported_fields_internal::SupportedFieldsWalk walk{kind, name,
                                                      &supported_fields_internal::Resolved()};
  return walk.CheckMessage(message, supported_fields_internal::FieldPath{});
}

}  // namespace

absl::Status CheckSupportedFields(const ConfigInput& input) {
  for (const auto* l : input.listeners) {
    if (l->has_api_listener()) continue;  // for proxyless gRPC clients, not served here
    absl::Status s = CheckResource("listener", l->name(), *l);
    if (!s.ok()) return s;
  }
  for (const auto* r : input.routes) {
    absl::Status s = CheckResource("route_configuration", r->name(), *r);
    if (!s.ok()) return s;
  }
  for (const auto* c : input.clusters) {
    absl::Status s = CheckResource("cluster", c->name(), *c);
    if (!s.ok()) return s;
  }
  for (const auto* e : input.endpoints) {
    absl::Status s = CheckResource("cluster_load_assignment", e->cluster_name(), *e);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CheckSupportedFieldTables() {
  using google::protobuf::FieldDescriptor;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const auto& [type, rules] : supported_fields_internal::Book()) {
    const google::protobuf::Descriptor* d = pool->FindMessageTypeByName(type);
    if (d == nullptr) return absl::InternalError(absl::StrCat("no message type ", type));
    for (const auto& rule : rules.fields) {
      const FieldDescriptor* f = d->FindFieldByName(std::string(rule.field));
      if (f == nullptr) {
        return absl::InternalError(absl::StrCat(type, " has no field ", rule.field));
      }
      if (f->cpp_type() != FieldDescriptor::CPPTYPE_ENUM) continue;
      for (absl::string_view value : rule.only) {
        if (f->enum_type()->FindValueByName(std::string(value)) == nullptr) {
          return absl::InternalError(absl::StrCat(type, ".", rule.field, " has no value ", value));
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace causeway::proxy

#pragma GCC diagnostic pop
