#include "proxy/config/build_config.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/wrappers.pb.h"
#include "proxy/config/routing_key_guard_config.h"
#include "proxy/config/supported_fields.h"
#include "proxy/config/tls_context.h"

// Deprecated v3 fields (HeaderValueOption.append, HeaderMatcher.exact_match
// and friends) are still sent by control planes, so they are honoured.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace causeway::proxy {
namespace {

using envoy::config::route::v3::RouteConfiguration;
using HcmProto =
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

// Assigns the value of a StatusOr expression or returns its error.
#define CW_RC_ASSIGN(lhs, expr)             \
  do {                                      \
    auto cw_v_ = (expr);                    \
    if (!cw_v_.ok()) return cw_v_.status(); \
    lhs = *std::move(cw_v_);                \
  } while (false)

absl::Status Invalid(const std::string& where, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
}

std::chrono::milliseconds ToMillis(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

absl::StatusOr<std::shared_ptr<const re2::RE2>> CompileRegex(const std::string& where,
                                                             const std::string& pattern) {
  auto re = std::make_shared<re2::RE2>(pattern, re2::RE2::Quiet);
  if (!re->ok()) return Invalid(where, absl::StrCat("invalid RE2 regex: ", re->error()));
  return std::shared_ptr<const re2::RE2>(std::move(re));
}

absl::StatusOr<StringMatch> BuildStringMatch(const std::string& where,
                                             const envoy::type::matcher::v3::StringMatcher& m) {
  StringMatch out;
  out.ignore_case = m.ignore_case();
  auto fold = [&](const std::string& v) { return out.ignore_case ? absl::AsciiStrToLower(v) : v; };
  switch (m.match_pattern_case()) {
    case envoy::type::matcher::v3::StringMatcher::kExact:
      out.kind = StringMatch::Kind::kExact;
      out.value = fold(m.exact());
      break;
    case envoy::type::matcher::v3::StringMatcher::kPrefix:
      out.kind = StringMatch::Kind::kPrefix;
      out.value = fold(m.prefix());
      break;
    case envoy::type::matcher::v3::StringMatcher::kSuffix:
      out.kind = StringMatch::Kind::kSuffix;
      out.value = fold(m.suffix());
      break;
    case envoy::type::matcher::v3::StringMatcher::kContains:
      out.kind = StringMatch::Kind::kContains;
      out.value = fold(m.contains());
      break;
    case envoy::type::matcher::v3::StringMatcher::kSafeRegex: {
      out.kind = StringMatch::Kind::kRegex;
      auto re = CompileRegex(absl::StrCat(where, ".safe_regex"), m.safe_regex().regex());
      if (!re.ok()) return re.status();
      out.regex = *std::move(re);
      break;
    }
    default:
      return Invalid(where, "unsupported or missing match_pattern");
  }
  return out;
}

std::string ValueToText(const google::protobuf::Value& v) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return v.string_value();
    case google::protobuf::Value::kBoolValue:
      return v.bool_value() ? "true" : "false";
    case google::protobuf::Value::kNumberValue: {
      double d = v.number_value();
      if (std::floor(d) == d && std::fabs(d) < 1e15) return absl::StrCat(static_cast<int64_t>(d));
      return absl::StrCat(d);
    }
    case google::protobuf::Value::kNullValue:
      return "null";
    default:
      return v.ShortDebugString();
  }
}

LbMetadata LbMetadataOf(const envoy::config::core::v3::Metadata& md) {
  LbMetadata out;
  auto it = md.filter_metadata().find("envoy.lb");
  if (it == md.filter_metadata().end()) return out;
  for (const auto& [k, v] : it->second.fields()) out.emplace_back(k, ValueToText(v));
  std::sort(out.begin(), out.end());
  return out;
}

// The checks below cover every configured string the proxy writes into a
// message head. A CR or LF there would end the line early and let the rest be
// read as further header fields, or as a second message; a control plane must
// not be able to make the proxy split a request or a response.

// RFC 9110 5.1: a field name is a token (1*tchar).
bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    bool tchar = absl::ascii_isalnum(c) ||
                 absl::string_view("!#$%&'*+-.^_`|~").find(ch) != absl::string_view::npos;
    if (!tchar) return false;
  }
  return true;
}

// RFC 9110 5.5 field-value: no control character but HTAB (so no CR, LF or
// NUL), and no leading or trailing whitespace, which a recipient strips (the
// value on the wire would not be the value configured). obs-text is allowed.
absl::Status CheckFieldValue(const std::string& where, absl::string_view v) {
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\r' || c == '\n') return Invalid(where, "contains CR/LF");
    if (c == 0) return Invalid(where, "contains NUL");
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return Invalid(where,
                     absl::StrCat("contains control character 0x", absl::Hex(c, absl::kZeroPad2)));
    }
  }
  if (!v.empty() &&
      (v.front() == ' ' || v.front() == '\t' || v.back() == ' ' || v.back() == '\t')) {
    return Invalid(where, "has leading or trailing whitespace");
  }
  return absl::OkStatus();
}

absl::Status CheckFieldName(const std::string& where, absl::string_view name) {
  if (name.empty()) return Invalid(where, "is empty");
  if (!IsToken(name)) {
    return Invalid(where, absl::StrCat("header name \"", absl::CHexEscape(name),
                                       "\" is not a token (RFC 9110 5.1)"));
  }
  return absl::OkStatus();
}

// Host = uri-host [ ":" port ] (RFC 9110 7.2): reg-name, IPv4 or IP-literal
// characters only.
absl::Status CheckHost(const std::string& where, absl::string_view host) {
  for (char ch : host) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\r' || c == '\n') return Invalid(where, "contains CR/LF");
    bool ok = absl::ascii_isalnum(c) ||
              absl::string_view("-._~%!$&'()*+,;=:[]").find(ch) != absl::string_view::npos;
    if (!ok) {
      return Invalid(where, absl::StrCat("character '", absl::CHexEscape(absl::string_view(&ch, 1)),
                                         "' is not allowed in a host"));
    }
  }
  return absl::OkStatus();
}

// A request-target prefix: visible ASCII only (RFC 9112 3.2, RFC 3986).
absl::Status CheckTargetPrefix(const std::string& where, absl::string_view target) {
  for (char ch : target) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\r' || c == '\n') return Invalid(where, "contains CR/LF");
    if (c <= 0x20 || c >= 0x7f) {
      return Invalid(where, absl::StrCat("character '", absl::CHexEscape(absl::string_view(&ch, 1)),
                                         "' is not allowed in a request target"));
    }
  }
  return absl::OkStatus();
}

// The fields of `message` that are set and not in `implemented`, named
// "where.field": what the proxy would otherwise silently ignore.
absl::Status RefuseUnimplemented(const std::string& where, const google::protobuf::Message& message,
                                 std::initializer_list<absl::string_view> implemented) {
  std::vector<const google::protobuf::FieldDescriptor*> set;
  message.GetReflection()->ListFields(message, &set);
  for (const google::protobuf::FieldDescriptor* field : set) {
    if (std::find(implemented.begin(), implemented.end(), field->name()) == implemented.end()) {
      return Invalid(absl::StrCat(where, ".", field->name()), "is not supported by this proxy");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> HealthThreshold(const std::string& where, bool has,
                                         const google::protobuf::UInt32Value& value) {
  if (!has) return Invalid(where, "is required");
  if (value.value() < 1) return Invalid(where, "must be at least 1");
  return value.value();
}

absl::StatusOr<std::chrono::milliseconds> HealthDuration(const std::string& where, bool has,
                                                         const google::protobuf::Duration& d) {
  if (!has) return Invalid(where, "is required");
  std::chrono::milliseconds ms = ToMillis(d);
  if (ms.count() <= 0) return Invalid(where, "must be at least 1 ms");
  return ms;
}

// HttpHealthCheck: path, host and expected_statuses.
absl::Status BuildHttpHealthCheck(const std::string& where,
                                  const envoy::config::core::v3::HealthCheck::HttpHealthCheck& http,
                                  HealthCheckConfig* out) {
  if (absl::Status s = RefuseUnimplemented(where, http, {"path", "host", "expected_statuses"});
      !s.ok()) {
    return s;
  }
  if (http.path().empty() || http.path().front() != '/') {
    return Invalid(where + ".path", absl::StrCat("must start with '/', got \"",
                                                 absl::CHexEscape(http.path()), "\""));
  }
  if (absl::Status s = CheckTargetPrefix(where + ".path", http.path()); !s.ok()) return s;
  if (absl::Status s = CheckHost(where + ".host", http.host()); !s.ok()) return s;
  out->path = http.path();
  out->host = http.host();
  if (http.expected_statuses_size() > 0) out->expected_statuses.clear();
  for (int i = 0; i < http.expected_statuses_size(); ++i) {
    const auto& range = http.expected_statuses(i);
    // Envoy's bounds: [100, 600), start below end.
    if (range.start() < 100 || range.end() > 600 || range.start() >= range.end()) {
      return Invalid(absl::StrCat(where, ".expected_statuses[", i, "]"),
                     absl::StrCat("[", range.start(), ", ", range.end(),
                                  ") is not a range of statuses within [100, 600)"));
    }
    out->expected_statuses.emplace_back(range.start(), range.end());
  }
  return absl::OkStatus();
}

// Cluster.health_checks: at most one, an HTTP check (upstream/health_checker.h).
absl::StatusOr<std::optional<HealthCheckConfig>> BuildHealthCheck(
    const std::string& where, const envoy::config::cluster::v3::Cluster& cluster) {
  if (cluster.health_checks_size() == 0) return std::nullopt;
  if (cluster.health_checks_size() > 1) {
    return Invalid(where + ".health_checks",
                   absl::StrCat("has ", cluster.health_checks_size(),
                                " entries; this proxy runs at most one health check per cluster"));
  }
  const envoy::config::core::v3::HealthCheck& hc = cluster.health_checks(0);
  const std::string hwhere = where + ".health_checks[0]";
  if (!hc.has_http_health_check()) {
    return Invalid(hwhere, "only http_health_check is supported (not tcp, grpc or custom)");
  }
  if (absl::Status s =
          RefuseUnimplemented(hwhere, hc,
                              {"timeout", "interval", "interval_jitter", "healthy_threshold",
                               "unhealthy_threshold", "http_health_check"});
      !s.ok()) {
    return s;
  }
  HealthCheckConfig out;
  CW_RC_ASSIGN(out.timeout, HealthDuration(hwhere + ".timeout", hc.has_timeout(), hc.timeout()));
  CW_RC_ASSIGN(out.interval,
               HealthDuration(hwhere + ".interval", hc.has_interval(), hc.interval()));
  if (hc.has_interval_jitter()) out.interval_jitter = ToMillis(hc.interval_jitter());
  if (out.interval_jitter.count() < 0) {
    return Invalid(hwhere + ".interval_jitter", "must not be negative");
  }
  CW_RC_ASSIGN(out.healthy_threshold,
               HealthThreshold(hwhere + ".healthy_threshold", hc.has_healthy_threshold(),
                               hc.healthy_threshold()));
  CW_RC_ASSIGN(out.unhealthy_threshold,
               HealthThreshold(hwhere + ".unhealthy_threshold", hc.has_unhealthy_threshold(),
                               hc.unhealthy_threshold()));
  if (absl::Status s =
          BuildHttpHealthCheck(hwhere + ".http_health_check", hc.http_health_check(), &out);
      !s.ok()) {
    return s;
  }
  return std::optional<HealthCheckConfig>(std::move(out));
}

// An OutlierDetection enforcing_* percentage: the proxy ejects always or
// never, so only 0 and 100 are taken.
absl::StatusOr<bool> Enforcing(const std::string& where, bool has,
                               const google::protobuf::UInt32Value& value, bool fallback) {
  if (!has) return fallback;
  if (value.value() != 0 && value.value() != 100) {
    return Invalid(where, absl::StrCat("is ", value.value(),
                                       "; this proxy implements only 0 (never) and 100 (always)"));
  }
  return value.value() == 100;
}

// Detectors the proxy does not run may be named only to switch them off.
absl::Status RequireOff(const std::string& where, bool has,
                        const google::protobuf::UInt32Value& value) {
  if (has && value.value() != 0) {
    return Invalid(where, absl::StrCat("is ", value.value(),
                                       "; this proxy implements only the consecutive-failure "
                                       "detectors, so it may only be 0"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::chrono::milliseconds> PositiveMillis(const std::string& where,
                                                         const google::protobuf::Duration& d) {
  std::chrono::milliseconds ms = ToMillis(d);
  if (ms.count() <= 0) {
    return Invalid(where,
                   absl::StrCat("must be at least 1 ms, not ", d.seconds(), "s ", d.nanos(), "ns"));
  }
  return ms;
}

absl::Status CheckOutlierFields(const std::string& where,
                                const envoy::config::cluster::v3::OutlierDetection& od) {
  if (absl::Status s = RefuseUnimplemented(
          where, od,
          {"consecutive_5xx", "consecutive_gateway_failure", "interval", "base_ejection_time",
           "max_ejection_time", "max_ejection_percent", "enforcing_consecutive_5xx",
           "enforcing_consecutive_gateway_failure", "always_eject_one_host",
           "enforcing_success_rate", "enforcing_local_origin_success_rate",
           "enforcing_failure_percentage", "enforcing_failure_percentage_local_origin",
           "max_ejection_time_jitter"});
      !s.ok()) {
    return s;
  }
  if (absl::Status s = RequireOff(where + ".enforcing_success_rate",
                                  od.has_enforcing_success_rate(), od.enforcing_success_rate());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = RequireOff(where + ".enforcing_local_origin_success_rate",
                                  od.has_enforcing_local_origin_success_rate(),
                                  od.enforcing_local_origin_success_rate());
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          RequireOff(where + ".enforcing_failure_percentage", od.has_enforcing_failure_percentage(),
                     od.enforcing_failure_percentage());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = RequireOff(where + ".enforcing_failure_percentage_local_origin",
                                  od.has_enforcing_failure_percentage_local_origin(),
                                  od.enforcing_failure_percentage_local_origin());
      !s.ok()) {
    return s;
  }
  if (od.has_max_ejection_time_jitter() && ToMillis(od.max_ejection_time_jitter()).count() != 0) {
    return Invalid(where + ".max_ejection_time_jitter", "is not supported by this proxy (only 0)");
  }
  return absl::OkStatus();
}

// Cluster.outlier_detection: the consecutive 5xx and gateway-failure
// detectors (upstream/outlier_detector.h).
absl::StatusOr<std::optional<OutlierDetectionConfig>> BuildOutlierDetection(
    const std::string& cluster_where, const envoy::config::cluster::v3::Cluster& cluster) {
  if (!cluster.has_outlier_detection()) return std::nullopt;
  const auto& od = cluster.outlier_detection();
  const std::string where = cluster_where + ".outlier_detection";
  if (absl::Status s = CheckOutlierFields(where, od); !s.ok()) return s;
  OutlierDetectionConfig out;
  if (od.has_consecutive_5xx()) out.consecutive_5xx = od.consecutive_5xx().value();
  if (od.has_consecutive_gateway_failure()) {
    out.consecutive_gateway_failure = od.consecutive_gateway_failure().value();
  }
  if (out.consecutive_5xx == 0) return Invalid(where + ".consecutive_5xx", "must be at least 1");
  if (out.consecutive_gateway_failure == 0) {
    return Invalid(where + ".consecutive_gateway_failure", "must be at least 1");
  }
  CW_RC_ASSIGN(out.enforcing_consecutive_5xx,
               Enforcing(where + ".enforcing_consecutive_5xx", od.has_enforcing_consecutive_5xx(),
                         od.enforcing_consecutive_5xx(), true));
  CW_RC_ASSIGN(out.enforcing_consecutive_gateway_failure,
               Enforcing(where + ".enforcing_consecutive_gateway_failure",
                         od.has_enforcing_consecutive_gateway_failure(),
                         od.enforcing_consecutive_gateway_failure(), false));
  if (od.has_interval())
    CW_RC_ASSIGN(out.interval, PositiveMillis(where + ".interval", od.interval()));
  if (od.has_base_ejection_time()) {
    CW_RC_ASSIGN(out.base_ejection_time,
                 PositiveMillis(where + ".base_ejection_time", od.base_ejection_time()));
  }
  if (od.has_max_ejection_time()) {
    CW_RC_ASSIGN(out.max_ejection_time,
                 PositiveMillis(where + ".max_ejection_time", od.max_ejection_time()));
  }
  // Envoy's rule: the cap is never below one base ejection time.
  out.max_ejection_time = std::max(out.max_ejection_time, out.base_ejection_time);
  if (od.has_max_ejection_percent()) {
    out.max_ejection_percent = od.max_ejection_percent().value();
    if (out.max_ejection_percent > 100) {
      return Invalid(where + ".max_ejection_percent",
                     absl::StrCat("is ", out.max_ejection_percent, "; must be at most 100"));
    }
  }
  if (od.has_always_eject_one_host())
    out.always_eject_one_host = od.always_eject_one_host().value();
  return std::optional<OutlierDetectionConfig>(out);
}

// Cluster.circuit_breakers: the DEFAULT priority's thresholds (the proxy has
// no request priorities). Without the field Envoy's defaults apply.
absl::StatusOr<CircuitBreakerConfig> BuildCircuitBreakers(
    const std::string& cluster_where, const envoy::config::cluster::v3::Cluster& cluster) {
  CircuitBreakerConfig out;
  if (!cluster.has_circuit_breakers()) return out;
  const auto& cb = cluster.circuit_breakers();
  const std::string where = cluster_where + ".circuit_breakers";
  if (absl::Status s = RefuseUnimplemented(where, cb, {"thresholds"}); !s.ok()) return s;
  bool seen_default = false;
  for (int i = 0; i < cb.thresholds_size(); ++i) {
    const auto& t = cb.thresholds(i);
    const std::string twhere = absl::StrCat(where, ".thresholds[", i, "]");
    if (t.priority() != envoy::config::core::v3::DEFAULT) {
      return Invalid(
          twhere + ".priority",
          absl::StrCat("is ", envoy::config::core::v3::RoutingPriority_Name(t.priority()),
                       "; this proxy has no request priorities, only DEFAULT"));
    }
    if (seen_default) return Invalid(twhere, "a second DEFAULT threshold");
    seen_default = true;
    if (absl::Status s = RefuseUnimplemented(twhere, t,
                                             {"priority", "max_connections", "max_pending_requests",
                                              "max_requests", "max_retries", "retry_budget"});
        !s.ok()) {
      return s;
    }
    if (t.has_max_connections()) out.max_connections = t.max_connections().value();
    if (t.has_max_pending_requests()) out.max_pending_requests = t.max_pending_requests().value();
    if (t.has_max_requests()) out.max_requests = t.max_requests().value();
    if (t.has_max_retries()) out.max_retries = t.max_retries().value();
    if (t.has_retry_budget()) {
      CircuitBreakerConfig::RetryBudget budget;
      const auto& b = t.retry_budget();
      if (b.has_budget_percent()) budget.budget_percent = b.budget_percent().value();
      if (budget.budget_percent < 0 || budget.budget_percent > 100) {
        return Invalid(twhere + ".retry_budget.budget_percent",
                       absl::StrCat("is ", budget.budget_percent, "; must be between 0 and 100"));
      }
      if (b.has_min_retry_concurrency()) {
        budget.min_retry_concurrency = b.min_retry_concurrency().value();
      }
      out.retry_budget = budget;
    }
  }
  return out;
}

absl::StatusOr<HeaderMutation> BuildMutation(
    const std::string& where,
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& add,
    const google::protobuf::RepeatedPtrField<std::string>& remove, const char* add_field,
    const char* remove_field) {
  HeaderMutation out;
  for (int i = 0; i < add.size(); ++i) {
    const auto& opt = add[i];
    std::string field = absl::StrCat(where, ".", add_field, "[", i, "]");
    const std::string& key = opt.header().key();
    if (key.empty()) return Invalid(field + ".header.key", "is empty");
    std::string name = absl::AsciiStrToLower(key);
    if (name[0] == ':' || name == "host" || name == "transfer-encoding" ||
        name == "content-length" || name == "connection") {
      return Invalid(field,
                     absl::StrCat("header '", absl::CHexEscape(name), "' may not be modified"));
    }
    if (absl::Status s = CheckFieldName(field + ".header.key", key); !s.ok()) return s;
    HeaderMutation::Add a;
    a.name = name;
    // HeaderValue: value or raw_value (bytes), not both.
    if (!opt.header().value().empty() && !opt.header().raw_value().empty()) {
      return Invalid(field + ".header", "only one of value and raw_value may be set");
    }
    const bool raw = !opt.header().raw_value().empty();
    a.value = raw ? opt.header().raw_value() : opt.header().value();
    if (absl::Status s =
            CheckFieldValue(field + (raw ? ".header.raw_value" : ".header.value"), a.value);
        !s.ok()) {
      return s;
    }
    using Opt = envoy::config::core::v3::HeaderValueOption;
    if (opt.has_append()) {
      a.action = opt.append().value() ? HeaderMutation::Add::Action::kAppend
                                      : HeaderMutation::Add::Action::kOverwrite;
    } else {
      switch (opt.append_action()) {
        case Opt::APPEND_IF_EXISTS_OR_ADD:
          a.action = HeaderMutation::Add::Action::kAppend;
          break;
        case Opt::ADD_IF_ABSENT:
          a.action = HeaderMutation::Add::Action::kAddIfAbsent;
          break;
        case Opt::OVERWRITE_IF_EXISTS_OR_ADD:
          a.action = HeaderMutation::Add::Action::kOverwrite;
          break;
        case Opt::OVERWRITE_IF_EXISTS:
          a.action = HeaderMutation::Add::Action::kOverwriteIfExists;
          break;
        default:
          return Invalid(field, "unknown append_action");
      }
    }
    out.add.push_back(std::move(a));
  }
  for (int i = 0; i < remove.size(); ++i) {
    std::string rfield = absl::StrCat(where, ".", remove_field, "[", i, "]");
    std::string name = absl::AsciiStrToLower(remove[i]);
    if (name.empty() || name[0] == ':' || name == "host") {
      return Invalid(rfield,
                     absl::StrCat("header '", absl::CHexEscape(name), "' may not be removed"));
    }
    if (absl::Status s = CheckFieldName(rfield, remove[i]); !s.ok()) return s;
    out.remove.push_back(std::move(name));
  }
  return out;
}

template <typename Proto>
absl::StatusOr<HeaderMutation> RequestMutation(const std::string& where, const Proto& p) {
  return BuildMutation(where, p.request_headers_to_add(), p.request_headers_to_remove(),
                       "request_headers_to_add", "request_headers_to_remove");
}
template <typename Proto>
absl::StatusOr<HeaderMutation> ResponseMutation(const std::string& where, const Proto& p) {
  return BuildMutation(where, p.response_headers_to_add(), p.response_headers_to_remove(),
                       "response_headers_to_add", "response_headers_to_remove");
}

absl::StatusOr<RetryPolicy> BuildRetry(const std::string& where,
                                       const envoy::config::route::v3::RetryPolicy& p) {
  RetryPolicy out;
  out.num_retries = p.has_num_retries() ? p.num_retries().value() : 1;
  for (absl::string_view on : absl::StrSplit(p.retry_on(), ',', absl::SkipWhitespace())) {
    on = absl::StripAsciiWhitespace(on);
    if (on == "5xx") {
      out.on_5xx = true;
    } else if (on == "gateway-error") {
      out.on_gateway_error = true;
    } else if (on == "connect-failure") {
      out.on_connect_failure = true;
    } else if (on == "reset") {
      out.on_reset = true;
    }
    // Other Envoy conditions (retriable-4xx, refused-stream, ...) are accepted
    // and ignored so a control plane written for Envoy is not NACKed.
  }
  if (p.has_per_try_timeout()) out.per_try_timeout = ToMillis(p.per_try_timeout());
  if (out.per_try_timeout.count() < 0) return Invalid(where + ".per_try_timeout", "negative");
  return out;
}

absl::Status BuildRoute(const std::string& where, const envoy::config::route::v3::Route& proto,
                        Route* route) {
  route->name = proto.name();
  const auto& m = proto.match();
  switch (m.path_specifier_case()) {
    case envoy::config::route::v3::RouteMatch::kPrefix:
      route->path_kind = Route::PathKind::kPrefix;
      route->path = m.prefix();
      break;
    case envoy::config::route::v3::RouteMatch::kPath:
      route->path_kind = Route::PathKind::kPath;
      route->path = m.path();
      break;
    case envoy::config::route::v3::RouteMatch::kSafeRegex: {
      route->path_kind = Route::PathKind::kRegex;
      auto re = CompileRegex(where + ".match.safe_regex", m.safe_regex().regex());
      if (!re.ok()) return re.status();
      route->path_regex = *std::move(re);
      break;
    }
    default:
      return Invalid(where + ".match", "path_specifier must be prefix, path or safe_regex");
  }
  route->case_sensitive = !m.has_case_sensitive() || m.case_sensitive().value();
  if (!route->case_sensitive) route->path = absl::AsciiStrToLower(route->path);

  for (int i = 0; i < m.headers_size(); ++i) {
    const auto& h = m.headers(i);
    std::string field = absl::StrCat(where, ".match.headers[", i, "]");
    HeaderMatch hm;
    hm.name = absl::AsciiStrToLower(h.name());
    if (hm.name.empty()) return Invalid(field, "name is empty");
    hm.invert = h.invert_match();
    using HM = envoy::config::route::v3::HeaderMatcher;
    switch (h.header_match_specifier_case()) {
      case HM::kExactMatch:
        hm.string.kind = StringMatch::Kind::kExact;
        hm.string.value = h.exact_match();
        break;
      case HM::kPrefixMatch:
        hm.string.kind = StringMatch::Kind::kPrefix;
        hm.string.value = h.prefix_match();
        break;
      case HM::kSuffixMatch:
        hm.string.kind = StringMatch::Kind::kSuffix;
        hm.string.value = h.suffix_match();
        break;
      case HM::kContainsMatch:
        hm.string.kind = StringMatch::Kind::kContains;
        hm.string.value = h.contains_match();
        break;
      case HM::kSafeRegexMatch: {
        hm.string.kind = StringMatch::Kind::kRegex;
        auto re = CompileRegex(field + ".safe_regex_match", h.safe_regex_match().regex());
        if (!re.ok()) return re.status();
        hm.string.regex = *std::move(re);
        break;
      }
      case HM::kStringMatch: {
        auto sm = BuildStringMatch(field + ".string_match", h.string_match());
        if (!sm.ok()) return sm.status();
        hm.string = *std::move(sm);
        break;
      }
      case HM::kPresentMatch:
        hm.kind = HeaderMatch::Kind::kPresent;
        hm.present = h.present_match();
        break;
      case HM::kRangeMatch:
        hm.kind = HeaderMatch::Kind::kRange;
        hm.range_start = h.range_match().start();
        hm.range_end = h.range_match().end();
        break;
      case HM::HEADER_MATCH_SPECIFIER_NOT_SET:
        // Envoy treats an empty matcher as "present".
        hm.kind = HeaderMatch::Kind::kPresent;
        break;
    }
    route->headers.push_back(std::move(hm));
  }
  for (int i = 0; i < m.query_parameters_size(); ++i) {
    const auto& q = m.query_parameters(i);
    std::string field = absl::StrCat(where, ".match.query_parameters[", i, "]");
    QueryMatch qm;
    qm.name = q.name();
    if (qm.name.empty()) return Invalid(field, "name is empty");
    if (q.has_string_match()) {
      auto sm = BuildStringMatch(field + ".string_match", q.string_match());
      if (!sm.ok()) return sm.status();
      qm.string = *std::move(sm);
    }
    route->query.push_back(std::move(qm));
  }

  auto req = RequestMutation(where, proto);
  if (!req.ok()) return req.status();
  route->request_headers = *std::move(req);
  auto resp = ResponseMutation(where, proto);
  if (!resp.ok()) return resp.status();
  route->response_headers = *std::move(resp);

  if (proto.has_direct_response()) {
    route->action = Route::Action::kDirectResponse;
    route->direct_status = proto.direct_response().status();
    if (route->direct_status < 200 || route->direct_status > 599) {
      return Invalid(where + ".direct_response.status", "must be in [200, 599]");
    }
    const auto& body = proto.direct_response().body();
    if (body.has_inline_string()) {
      route->direct_body = body.inline_string();
    } else if (body.has_inline_bytes()) {
      route->direct_body = body.inline_bytes();
    } else if (body.specifier_case() != envoy::config::core::v3::DataSource::SPECIFIER_NOT_SET) {
      return Invalid(where + ".direct_response.body", "only inline_string/inline_bytes");
    }
    return absl::OkStatus();
  }
  if (!proto.has_route()) {
    return Invalid(where, "action must be route or direct_response");
  }
  const auto& ra = proto.route();
  std::string rwhere = where + ".route";
  LbMetadata route_md = LbMetadataOf(ra.metadata_match());
  switch (ra.cluster_specifier_case()) {
    case envoy::config::route::v3::RouteAction::kCluster:
      if (ra.cluster().empty()) return Invalid(rwhere + ".cluster", "empty");
      route->clusters.push_back({ra.cluster(), 1, route_md});
      route->total_weight = 1;
      break;
    case envoy::config::route::v3::RouteAction::kWeightedClusters: {
      const auto& wc = ra.weighted_clusters();
      for (int i = 0; i < wc.clusters_size(); ++i) {
        const auto& c = wc.clusters(i);
        std::string cw = absl::StrCat(rwhere, ".weighted_clusters.clusters[", i, "]");
        if (c.name().empty()) return Invalid(cw + ".name", "empty");
        ClusterTarget t{c.name(), c.has_weight() ? c.weight().value() : 0, route_md};
        // Per-cluster metadata_match refines the route's (Envoy merges them).
        for (auto& [k, v] : LbMetadataOf(c.metadata_match())) {
          auto it = std::find_if(t.metadata_match.begin(), t.metadata_match.end(),
                                 [&](const auto& kv) { return kv.first == k; });
          if (it != t.metadata_match.end()) {
            it->second = v;
          } else {
            t.metadata_match.emplace_back(k, v);
          }
        }
        route->total_weight += t.weight;
        route->clusters.push_back(std::move(t));
      }
      if (route->clusters.empty()) {
        return Invalid(rwhere + ".weighted_clusters.clusters", "must not be empty");
      }
      if (route->total_weight == 0) {
        return Invalid(rwhere + ".weighted_clusters", "total weight must be positive");
      }
      break;
    }
    default:
      return Invalid(rwhere, "cluster_specifier must be cluster or weighted_clusters");
  }
  if (!ra.prefix_rewrite().empty()) {
    if (route->path_kind == Route::PathKind::kRegex) {
      return Invalid(rwhere + ".prefix_rewrite", "not allowed with a safe_regex match");
    }
    if (absl::Status s = CheckTargetPrefix(rwhere + ".prefix_rewrite", ra.prefix_rewrite());
        !s.ok()) {
      return s;
    }
    route->prefix_rewrite = ra.prefix_rewrite();
  }
  if (ra.has_host_rewrite_literal()) {
    if (absl::Status s = CheckHost(rwhere + ".host_rewrite_literal", ra.host_rewrite_literal());
        !s.ok()) {
      return s;
    }
    route->host_rewrite = ra.host_rewrite_literal();
  }
  if (ra.has_timeout()) route->timeout = ToMillis(ra.timeout());
  if (route->timeout.count() < 0) return Invalid(rwhere + ".timeout", "negative");
  if (ra.has_retry_policy()) {
    auto rp = BuildRetry(rwhere + ".retry_policy", ra.retry_policy());
    if (!rp.ok()) return rp.status();
    route->retry = *rp;
  }
  return absl::OkStatus();
}

// Indexes a domain, rejecting duplicates and wildcards Envoy would reject.
absl::Status IndexDomain(const std::string& where, const std::string& raw, size_t vhost,
                         RouteTable* table, absl::flat_hash_set<std::string>* seen) {
  std::string d = absl::AsciiStrToLower(raw);
  if (d.empty()) return Invalid(where, "empty domain");
  if (!seen->insert(d).second) {
    return Invalid(where, absl::StrCat("domain '", d, "' appears in more than one virtual host"));
  }
  if (d == "*") {
    table->any = vhost;
    return absl::OkStatus();
  }
  size_t stars = std::count(d.begin(), d.end(), '*');
  if (stars == 0) {
    table->exact.emplace(d, vhost);
  } else if (stars == 1 && d.front() == '*') {
    table->suffixes.emplace_back(d.substr(1), vhost);
  } else if (stars == 1 && d.back() == '*') {
    table->prefixes.emplace_back(d.substr(0, d.size() - 1), vhost);
  } else {
    return Invalid(where, absl::StrCat("domain '", d, "': wildcard only at the start or end"));
  }
  return absl::OkStatus();
}

// Cluster.transport_socket: an UpstreamTlsContext (config/tls_context.h).
absl::StatusOr<std::shared_ptr<const UpstreamTls>> BuildClusterTls(
    const std::string& where, const envoy::config::cluster::v3::Cluster& cluster) {
  if (!cluster.has_transport_socket()) return nullptr;
  const std::string at = where + ": transport_socket";
  envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext tls;
  if (!cluster.transport_socket().typed_config().UnpackTo(&tls)) {
    return Invalid(at + ".typed_config", "not an UpstreamTlsContext");
  }
  return BuildUpstreamTls(at, tls);
}

constexpr char kHttpProtocolOptionsKey[] = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

// ALPN the upstream TLS handshakes offer for the cluster's protocol: h2
// alone for explicit HTTP/2 (as Envoy), h2 then http/1.1 for auto. The
// context was made for this cluster by BuildUpstreamTls, so it is ours to set.
absl::Status OfferUpstreamAlpn(const std::string& where, const ClusterConfig& cluster) {
  static constexpr unsigned char kH2[] = {2, 'h', '2'};
  static constexpr unsigned char kH2Http11[] = {2,   'h', '2', 8,   'h', 't',
                                                't', 'p', '/', '1', '.', '1'};
  if (cluster.tls == nullptr || cluster.protocol == ClusterConfig::Protocol::kHttp1) {
    return absl::OkStatus();
  }
  const bool h2_only = cluster.protocol == ClusterConfig::Protocol::kHttp2;
  if (SSL_CTX_set_alpn_protos(cluster.tls->context->native_handle(), h2_only ? kH2 : kH2Http11,
                              h2_only ? sizeof(kH2) : sizeof(kH2Http11)) != 0) {
    return Invalid(where + ": transport_socket", "ALPN cannot be set");
  }
  return absl::OkStatus();
}

// Cluster.typed_extension_protocol_options: HttpProtocolOptions with an
// explicit HTTP/1.1 or HTTP/2 config, or auto_config (ALPN over TLS).
// supported_fields refuses the sub-fields not read here.
absl::Status BuildProtocolOptions(const std::string& where,
                                  const envoy::config::cluster::v3::Cluster& cluster,
                                  ClusterConfig& out) {
  using envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
  const std::string at = where + ": typed_extension_protocol_options";
  for (const auto& [key, any] : cluster.typed_extension_protocol_options()) {
    if (key != kHttpProtocolOptionsKey) {
      return Invalid(absl::StrCat(at, "['", key, "']"), "only HttpProtocolOptions is supported");
    }
    HttpProtocolOptions options;
    if (!any.UnpackTo(&options)) {
      return Invalid(absl::StrCat(at, "['", key, "']"), "not an HttpProtocolOptions");
    }
    const envoy::config::core::v3::Http2ProtocolOptions* h2 = nullptr;
    if (options.has_explicit_http_config()) {
      const auto& config = options.explicit_http_config();
      if (config.has_http2_protocol_options()) {
        out.protocol = ClusterConfig::Protocol::kHttp2;
        h2 = &config.http2_protocol_options();
      }
    } else if (options.has_auto_config()) {
      if (out.tls == nullptr) {
        return Invalid(at + ".auto_config",
                       "needs a TLS transport_socket (ALPN chooses the protocol)");
      }
      out.protocol = ClusterConfig::Protocol::kAuto;
      h2 = &options.auto_config().http2_protocol_options();
    } else {
      return Invalid(at, "needs explicit_http_config or auto_config");
    }
    if (h2 != nullptr && h2->has_max_concurrent_streams()) {
      out.max_concurrent_streams = h2->max_concurrent_streams().value();
      if (out.max_concurrent_streams == 0) {
        return Invalid(at + ".http2_protocol_options.max_concurrent_streams", "must be positive");
      }
    }
  }
  return OfferUpstreamAlpn(where, out);
}

bool HasTlsInspector(const envoy::config::listener::v3::Listener& l) {
  for (const auto& f : l.listener_filters()) {
    if (f.typed_config()
            .Is<envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector>())
      return true;
  }
  return false;
}

// One filter chain with a transport_socket: a TLS chain chosen by SNI.
absl::Status BuildTlsChain(const std::string& where,
                           const envoy::config::listener::v3::FilterChain& chain,
                           ListenerConfig& out) {
  const auto& match = chain.filter_chain_match();
  if (!match.transport_protocol().empty() && match.transport_protocol() != "tls") {
    return Invalid(
        where + ".filter_chain_match.transport_protocol",
        absl::StrCat("'", match.transport_protocol(), "' with a transport_socket (only tls)"));
  }
  envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext tls;
  if (!chain.transport_socket().typed_config().UnpackTo(&tls)) {
    return Invalid(where + ".transport_socket.typed_config", "not a DownstreamTlsContext");
  }
  std::vector<std::string> names(match.server_names().begin(), match.server_names().end());
  auto built = BuildDownstreamTlsChain(where + ".transport_socket", names, tls);
  if (!built.ok()) return built.status();
  out.tls_chains.push_back(*std::move(built));
  return absl::OkStatus();
}

// The listener's filter chains: TLS chains (each with a DownstreamTlsContext
// and the server_names it serves) and at most one clear-text chain without
// a filter_chain_match. Every chain carries the same filters (the hub gives
// each the same HTTP connection manager); the index of the chain whose
// filters the listener serves is returned.
absl::StatusOr<int> BuildListenerChains(const std::string& where,
                                        const envoy::config::listener::v3::Listener& l,
                                        ListenerConfig& out) {
  if (l.filter_chains_size() == 0) return Invalid(where + ".filter_chains", "none");
  int plain = -1;
  out.plain_chain = false;
  for (int i = 0; i < l.filter_chains_size(); ++i) {
    const auto& chain = l.filter_chains(i);
    const std::string at = absl::StrCat(where, ".filter_chains[", i, "]");
    if (!chain.filters().empty() && i > 0 &&
        !google::protobuf::util::MessageDifferencer::Equals(l.filter_chains(0).filters(0),
                                                            chain.filters(0))) {
      return Invalid(at + ".filters",
                     "must be the same as filter_chains[0]'s (one HTTP connection manager)");
    }
    if (chain.has_transport_socket()) {
      if (absl::Status s = BuildTlsChain(at, chain, out); !s.ok()) return s;
      continue;
    }
    if (chain.has_filter_chain_match()) {
      return Invalid(at + ".filter_chain_match", "only with a transport_socket (TLS)");
    }
    if (plain >= 0) return Invalid(at, "a second chain without filter_chain_match");
    plain = i;
    out.plain_chain = true;
  }
  if (!out.tls_chains.empty() && !HasTlsInspector(l)) {
    return Invalid(where + ".listener_filters",
                   "envoy.filters.listener.tls_inspector is required for TLS filter chains");
  }
  if (!out.tls_chains.empty()) {
    auto tls = DownstreamTls::Make(out.tls_chains);
    if (!tls.ok()) return tls.status();
    out.tls = *std::move(tls);
  }
  return plain >= 0 ? plain : 0;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const RouteTable>> BuildRouteTable(
    const RouteConfiguration& config) {
  auto table = std::make_shared<RouteTable>();
  table->name = config.name();
  std::string where = absl::StrCat("route_configuration '", config.name(), "'");
  CW_RC_ASSIGN(table->request_headers, RequestMutation(where, config));
  CW_RC_ASSIGN(table->response_headers, ResponseMutation(where, config));
  absl::flat_hash_set<std::string> seen;
  for (int v = 0; v < config.virtual_hosts_size(); ++v) {
    const auto& vp = config.virtual_hosts(v);
    std::string vwhere = absl::StrCat(where, ": virtual_hosts[", v, "]");
    VirtualHost vh;
    vh.name = vp.name();
    if (vp.domains().empty()) return Invalid(vwhere + ".domains", "must not be empty");
    for (int d = 0; d < vp.domains_size(); ++d) {
      absl::Status s = IndexDomain(absl::StrCat(vwhere, ".domains[", d, "]"), vp.domains(d),
                                   table->virtual_hosts.size(), table.get(), &seen);
      if (!s.ok()) return s;
      vh.domains.push_back(absl::AsciiStrToLower(vp.domains(d)));
    }
    CW_RC_ASSIGN(vh.request_headers, RequestMutation(vwhere, vp));
    CW_RC_ASSIGN(vh.response_headers, ResponseMutation(vwhere, vp));
    std::optional<RetryPolicy> vretry;
    if (vp.has_retry_policy()) {
      auto rp = BuildRetry(vwhere + ".retry_policy", vp.retry_policy());
      if (!rp.ok()) return rp.status();
      vretry = *rp;
    }
    for (int r = 0; r < vp.routes_size(); ++r) {
      Route route;
      absl::Status s = BuildRoute(absl::StrCat(vwhere, ".routes[", r, "]"), vp.routes(r), &route);
      if (!s.ok()) return s;
      if (vretry && !vp.routes(r).route().has_retry_policy()) route.retry = *vretry;
      vh.routes.push_back(std::move(route));
    }
    table->virtual_hosts.push_back(std::move(vh));
  }
  auto longest_first = [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); };
  std::stable_sort(table->suffixes.begin(), table->suffixes.end(), longest_first);
  std::stable_sort(table->prefixes.begin(), table->prefixes.end(), longest_first);
  return std::shared_ptr<const RouteTable>(std::move(table));
}

absl::StatusOr<std::shared_ptr<const ClusterConfig>> BuildCluster(
    const envoy::config::cluster::v3::Cluster& cluster,
    const envoy::config::endpoint::v3::ClusterLoadAssignment* assignment) {
  using envoy::config::cluster::v3::Cluster;
  auto out = std::make_shared<ClusterConfig>();
  out->name = cluster.name();
  std::string where = absl::StrCat("cluster '", cluster.name(), "'");
  if (cluster.name().empty()) return Invalid("cluster", "name is empty");
  switch (cluster.lb_policy()) {
    case Cluster::ROUND_ROBIN:
      out->lb_policy = ClusterConfig::LbPolicy::kRoundRobin;
      break;
    case Cluster::LEAST_REQUEST:
      out->lb_policy = ClusterConfig::LbPolicy::kLeastRequest;
      if (cluster.least_request_lb_config().has_choice_count()) {
        out->least_request_choices = cluster.least_request_lb_config().choice_count().value();
        if (out->least_request_choices < 2) {
          return Invalid(where + ".least_request_lb_config.choice_count", "must be >= 2");
        }
      }
      break;
    default:
      return Invalid(where + ".lb_policy", "only ROUND_ROBIN and LEAST_REQUEST are supported");
  }
  if (cluster.has_connect_timeout()) {
    out->connect_timeout = ToMillis(cluster.connect_timeout());
    if (out->connect_timeout.count() <= 0) {
      return Invalid(where + ".connect_timeout", "must be positive");
    }
  }
  const envoy::config::endpoint::v3::ClusterLoadAssignment* cla = nullptr;
  switch (cluster.type()) {
    case Cluster::EDS:
      out->discovery = ClusterConfig::Discovery::kEds;
      cla = assignment;
      break;
    case Cluster::STATIC:
      out->discovery = ClusterConfig::Discovery::kStatic;
      cla = &cluster.load_assignment();
      break;
    case Cluster::STRICT_DNS: {
      // Host names are resolved on the server's resolver thread, every
      // address an endpoint (upstream/strict_dns.h).
      out->discovery = ClusterConfig::Discovery::kStrictDns;
      cla = &cluster.load_assignment();
      if (cluster.has_dns_refresh_rate()) {
        out->dns_refresh_rate = ToMillis(cluster.dns_refresh_rate());
        if (out->dns_refresh_rate.count() <= 1) {
          return Invalid(where + ".dns_refresh_rate", "must be greater than 1 ms");
        }
      }
      using Family = ClusterConfig::DnsFamily;
      switch (cluster.dns_lookup_family()) {
        case Cluster::V4_ONLY:
          out->dns_family = Family::kV4Only;
          break;
        case Cluster::V6_ONLY:
          out->dns_family = Family::kV6Only;
          break;
        case Cluster::V4_PREFERRED:
          out->dns_family = Family::kV4Preferred;
          break;
        case Cluster::ALL:
          out->dns_family = Family::kAll;
          break;
        default:
          out->dns_family = Family::kAuto;
          break;
      }
      break;
    }
    case Cluster::LOGICAL_DNS:
      // A host name is resolved when connecting (upstream/connection_pool.cc).
      out->discovery = ClusterConfig::Discovery::kLogicalDns;
      cla = &cluster.load_assignment();
      break;
    default:
      return Invalid(where + ".type", "only EDS, STATIC, STRICT_DNS and LOGICAL_DNS are supported");
  }
  CW_RC_ASSIGN(out->health_check, BuildHealthCheck(where, cluster));
  CW_RC_ASSIGN(out->outlier_detection, BuildOutlierDetection(where, cluster));
  CW_RC_ASSIGN(out->circuit_breakers, BuildCircuitBreakers(where, cluster));
  CW_RC_ASSIGN(out->tls, BuildClusterTls(where, cluster));
  if (absl::Status s = BuildProtocolOptions(where, cluster, *out); !s.ok()) return s;
  if (cla == nullptr) return std::shared_ptr<const ClusterConfig>(std::move(out));
  for (int l = 0; l < cla->endpoints_size(); ++l) {
    const auto& loc = cla->endpoints(l);
    uint64_t locality_weight = 0;
    for (int e = 0; e < loc.lb_endpoints_size(); ++e) {
      const auto& lbe = loc.lb_endpoints(e);
      std::string ewhere =
          absl::StrCat(where, ": load_assignment.endpoints[", l, "].lb_endpoints[", e, "]");
      if (!lbe.has_endpoint() || !lbe.endpoint().address().has_socket_address()) {
        return Invalid(ewhere + ".endpoint.address", "socket_address required");
      }
      const auto& sa = lbe.endpoint().address().socket_address();
      if (sa.address().empty()) return Invalid(ewhere, "address is empty");
      if (sa.port_value() == 0 || sa.port_value() > 65535) {
        return Invalid(ewhere + ".port_value", "must be in [1, 65535]");
      }
      Endpoint ep;
      ep.address = sa.address();
      ep.port = static_cast<uint16_t>(sa.port_value());
      ep.weight = lbe.has_load_balancing_weight() ? lbe.load_balancing_weight().value() : 1;
      if (ep.weight == 0) return Invalid(ewhere + ".load_balancing_weight", "must be at least 1");
      // Envoy's limit, which keeps every sum of weights in 32 bits.
      locality_weight += ep.weight;
      if (locality_weight > UINT32_MAX) {
        return Invalid(absl::StrCat(where, ": load_assignment.endpoints[", l, "]"),
                       "the sum of its lb_endpoints' load_balancing_weight exceeds 4294967295");
      }
      using HS = envoy::config::core::v3::HealthStatus;
      ep.healthy = lbe.health_status() != HS::UNHEALTHY && lbe.health_status() != HS::DRAINING &&
                   lbe.health_status() != HS::TIMEOUT;
      ep.metadata = LbMetadataOf(lbe.metadata());
      out->endpoints.push_back(std::move(ep));
    }
  }
  return std::shared_ptr<const ClusterConfig>(std::move(out));
}

absl::StatusOr<ListenerConfig> BuildListener(const envoy::config::listener::v3::Listener& l) {
  ListenerConfig out;
  out.name = l.name();
  std::string where = absl::StrCat("listener '", l.name(), "'");
  if (l.name().empty()) return Invalid("listener", "name is empty");
  if (!l.address().has_socket_address())
    return Invalid(where + ".address", "socket_address required");
  const auto& sa = l.address().socket_address();
  out.address = sa.address().empty() ? "0.0.0.0" : sa.address();
  if (sa.port_value() > 65535) return Invalid(where + ".address.port_value", "out of range");
  out.port = static_cast<uint16_t>(sa.port_value());
  int http_chain = 0;
  CW_RC_ASSIGN(http_chain, BuildListenerChains(where, l, out));
  const auto& chain = l.filter_chains(http_chain);
  const std::string chain_where = absl::StrCat(where, ".filter_chains[", http_chain, "]");
  const HcmProto* found = nullptr;
  HcmProto hcm;
  for (int i = 0; i < chain.filters_size(); ++i) {
    const auto& f = chain.filters(i);
    if (f.has_typed_config() && f.typed_config().Is<HcmProto>()) {
      if (!f.typed_config().UnpackTo(&hcm)) {
        return Invalid(absl::StrCat(chain_where, ".filters[", i, "].typed_config"),
                       "cannot unpack HttpConnectionManager");
      }
      found = &hcm;
    } else {
      return Invalid(absl::StrCat(chain_where, ".filters[", i, "]"),
                     absl::StrCat("unsupported network filter '", f.name(), "'"));
    }
  }
  if (found == nullptr) return Invalid(chain_where + ".filters", "no HttpConnectionManager");
  if (hcm.has_rds()) {
    out.route_config_name = hcm.rds().route_config_name();
    if (out.route_config_name.empty()) {
      return Invalid(where + ": http_connection_manager.rds.route_config_name", "empty");
    }
  } else if (hcm.has_route_config()) {
    auto table = BuildRouteTable(hcm.route_config());
    if (!table.ok()) return table.status();
    out.inline_routes = *std::move(table);
  } else {
    return Invalid(where + ": http_connection_manager", "rds or route_config required");
  }
  if (hcm.codec_type() == HcmProto::HTTP1) out.codec = ListenerConfig::Codec::kHttp1;
  if (hcm.codec_type() == HcmProto::HTTP2) out.codec = ListenerConfig::Codec::kHttp2;
  if (hcm.has_stream_idle_timeout()) out.idle_timeout = ToMillis(hcm.stream_idle_timeout());
  if (hcm.has_request_headers_timeout()) {
    out.request_headers_timeout = ToMillis(hcm.request_headers_timeout());
  }
  if (hcm.has_request_timeout()) out.request_timeout = ToMillis(hcm.request_timeout());
  auto guard = BuildRoutingKeyGuard(hcm, where + ": http_connection_manager");
  if (!guard.ok()) return guard.status();
  out.key_guard = *std::move(guard);
  return out;
}

absl::StatusOr<ProxyConfigSnapshot> BuildConfig(const ConfigInput& input) {
  // Fields the proxy does not implement are refused, never ignored.
  if (absl::Status s = CheckSupportedFields(input); !s.ok()) return s;
  auto config = std::make_shared<ProxyConfig>();
  absl::flat_hash_set<std::pair<std::string, uint16_t>> addresses;
  for (const auto* listener : input.listeners) {
    const auto& l = *listener;
    if (l.has_api_listener()) continue;  // proxyless gRPC clients only
    auto built = BuildListener(l);
    if (!built.ok()) return built.status();
    if (config->FindListener(built->name) != nullptr) {
      return Invalid(absl::StrCat("listener '", l.name(), "'"), "duplicate name");
    }
    if (built->port != 0 && !addresses.insert({built->address, built->port}).second) {
      return Invalid(
          absl::StrCat("listener '", l.name(), "'.address"),
          absl::StrCat(built->address, ":", built->port, " is used by another listener"));
    }
    config->listeners.push_back(*std::move(built));
  }
  for (const auto* route : input.routes) {
    const auto& r = *route;
    auto table = BuildRouteTable(r);
    if (!table.ok()) return table.status();
    if (!config->routes.emplace(r.name(), *std::move(table)).second) {
      return Invalid(absl::StrCat("route_configuration '", r.name(), "'"), "duplicate name");
    }
  }
  absl::flat_hash_map<std::string, const envoy::config::endpoint::v3::ClusterLoadAssignment*>
      by_name;
  for (const auto* cla : input.endpoints) {
    if (!by_name.emplace(cla->cluster_name(), cla).second) {
      return Invalid(absl::StrCat("cluster_load_assignment '", cla->cluster_name(), "'"),
                     "duplicate cluster_name");
    }
  }
  for (const auto* cluster : input.clusters) {
    const auto& c = *cluster;
    const std::string& eds_name = c.eds_cluster_config().service_name().empty()
                                      ? c.name()
                                      : c.eds_cluster_config().service_name();
    auto it = by_name.find(eds_name);
    auto built = BuildCluster(c, it == by_name.end() ? nullptr : it->second);
    if (!built.ok()) return built.status();
    if (!config->clusters.emplace(c.name(), *std::move(built)).second) {
      return Invalid(absl::StrCat("cluster '", c.name(), "'"), "duplicate name");
    }
  }
  return ProxyConfigSnapshot(std::move(config));
}

absl::StatusOr<ProxyConfigSnapshot> BuildConfig(
    const std::vector<envoy::config::listener::v3::Listener>& listeners,
    const std::vector<RouteConfiguration>& routes,
    const std::vector<envoy::config::cluster::v3::Cluster>& clusters,
    const std::vector<envoy::config::endpoint::v3::ClusterLoadAssignment>& endpoints) {
  ConfigInput input;
  for (const auto& l : listeners) input.listeners.push_back(&l);
  for (const auto& r : routes) input.routes.push_back(&r);
  for (const auto& c : clusters) input.clusters.push_back(&c);
  for (const auto& e : endpoints) input.endpoints.push_back(&e);
  return BuildConfig(input);
}

}  // namespace causeway::proxy

#pragma GCC diagnostic pop
