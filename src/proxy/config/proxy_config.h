// The proxy's immutable configuration snapshot, built from Envoy v3 resources
// by BuildConfig (build_config.h). Workers hold a shared_ptr to one snapshot
// and never see it change; a new snapshot replaces it wholesale.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "re2/re2.h"

namespace causeway::proxy {

// TLS settings of a cluster and of a listener's filter chains, with their
// OpenSSL contexts (config/tls_context.h).
struct UpstreamTls;
struct DownstreamTlsChain;
class DownstreamTls;

// envoy.type.matcher.v3.StringMatcher.
struct StringMatch {
  enum class Kind { kExact, kPrefix, kSuffix, kContains, kRegex };
  Kind kind = Kind::kExact;
  std::string value;  // lower-cased when ignore_case
  bool ignore_case = false;
  std::shared_ptr<const re2::RE2> regex;

  bool Matches(std::string_view s) const;
};

// envoy.config.route.v3.HeaderMatcher (name is lower-case).
struct HeaderMatch {
  std::string name;
  enum class Kind { kString, kPresent, kRange };
  Kind kind = Kind::kString;
  StringMatch string;
  bool present = true;  // for kPresent: must (true) or must not (false) be present
  int64_t range_start = 0, range_end = 0;
  bool invert = false;
};

// envoy.config.route.v3.QueryParameterMatcher.
struct QueryMatch {
  std::string name;
  std::optional<StringMatch> string;  // nullopt: present_match
};

// Key/value pairs under the `envoy.lb` filter metadata, values rendered as
// text (strings verbatim, numbers and bools as JSON would print them).
using LbMetadata = std::vector<std::pair<std::string, std::string>>;

struct ClusterTarget {
  std::string name;
  uint32_t weight = 1;
  LbMetadata metadata_match;  // endpoints must carry all of these
};

struct RetryPolicy {
  uint32_t num_retries = 0;
  bool on_connect_failure = false;
  bool on_5xx = false;
  bool on_gateway_error = false;  // 502, 503, 504
  bool on_reset = false;
  std::chrono::milliseconds per_try_timeout{0};  // 0: the route timeout only
};

struct HeaderMutation {
  struct Add {
    std::string name;  // lower-case
    std::string value;
    // envoy.config.core.v3.HeaderValueOption.HeaderAppendAction.
    enum class Action { kAppend, kAddIfAbsent, kOverwrite, kOverwriteIfExists };
    Action action = Action::kAppend;
  };
  std::vector<Add> add;
  std::vector<std::string> remove;  // lower-case names
  bool empty() const { return add.empty() && remove.empty(); }
};

struct Route {
  std::string name;
  enum class PathKind { kPrefix, kPath, kRegex };
  PathKind path_kind = PathKind::kPrefix;
  std::string path;
  bool case_sensitive = true;
  std::shared_ptr<const re2::RE2> path_regex;
  std::vector<HeaderMatch> headers;
  std::vector<QueryMatch> query;

  enum class Action { kCluster, kDirectResponse };
  Action action = Action::kCluster;
  std::vector<ClusterTarget> clusters;
  uint32_t total_weight = 0;
  std::optional<std::string> prefix_rewrite;
  std::string host_rewrite;  // host_rewrite_literal
  // Envoy's default route timeout is 15 s; 0 disables it.
  std::chrono::milliseconds timeout{15000};
  RetryPolicy retry;
  uint32_t direct_status = 0;
  std::string direct_body;

  HeaderMutation request_headers;
  HeaderMutation response_headers;
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> domains;  // lower-case
  std::vector<Route> routes;
  std::optional<RetryPolicy> retry;  // default for routes without one
  HeaderMutation request_headers;
  HeaderMutation response_headers;
};

// A RouteConfiguration with its domain index.
struct RouteTable {
  std::string name;
  std::vector<VirtualHost> virtual_hosts;
  HeaderMutation request_headers;
  HeaderMutation response_headers;
  std::vector<std::string> response_headers_to_remove;

  // Domain index (see router.h for the precedence).
  absl::flat_hash_map<std::string, size_t> exact;
  std::vector<std::pair<std::string, size_t>> suffixes;  // "*.x" as ".x", longest first
  std::vector<std::pair<std::string, size_t>> prefixes;  // "x.*" as "x.", longest first
  std::optional<size_t> any;                             // "*"
};

struct Endpoint {
  std::string address;  // IP literal or host name
  uint16_t port = 0;
  // LbEndpoint.load_balancing_weight (at least 1): the endpoint's share of
  // its cluster's picks relative to the others (upstream/load_balancer.h).
  uint32_t weight = 1;
  bool healthy = true;  // as EDS says (health_status)
  // The cluster's active health check has found it down
  // (upstream/health_checker.h). Kept apart from `healthy` so the load
  // balancer's panic mode covers what the checks found, not what EDS says.
  bool failed_active_hc = false;
  LbMetadata metadata;

  // "host:port" as logged and used as the pool key.
  std::string Key() const;
};

// A number no other object of its kind in this process has had; a copy
// gets a new one. What per-worker state derived from an immutable object is
// keyed by, so that state is never taken for another object's, not even one
// allocated where a freed one was.
class UniqueId {
 public:
  UniqueId() : value_(Next()) {}
  UniqueId(const UniqueId&) : value_(Next()) {}
  UniqueId& operator=(const UniqueId&) {
    value_ = Next();
    return *this;
  }
  uint64_t value() const { return value_; }

 private:
  static uint64_t Next();
  uint64_t value_;
};

// envoy.config.core.v3.HealthCheck with http_health_check: a GET of `path`
// on each endpoint every interval (upstream/health_checker.h).
struct HealthCheckConfig {
  std::string path;
  std::string host;  // Host header; empty: the cluster's name
  std::chrono::milliseconds interval{5000};
  std::chrono::milliseconds timeout{1000};
  std::chrono::milliseconds interval_jitter{0};  // up to this much more, at random
  uint32_t healthy_threshold = 1;
  uint32_t unhealthy_threshold = 1;
  // Half-open ranges [start, end) of statuses that pass; Envoy's default is
  // 200 only.
  std::vector<std::pair<uint32_t, uint32_t>> expected_statuses{{200, 201}};
  bool operator==(const HealthCheckConfig&) const = default;
};

// envoy.config.cluster.v3.OutlierDetection, the consecutive-failure kinds
// (upstream/outlier_detector.h). Defaults are Envoy's.
struct OutlierDetectionConfig {
  // 5xx answers, and failures of the proxy's own (connect failure, reset,
  // timeout), in a row.
  uint32_t consecutive_5xx = 5;
  // 502, 503 and 504 answers and the proxy's own failures, in a row.
  uint32_t consecutive_gateway_failure = 5;
  // Whether each kind ejects (Envoy's percentages; 0 or 100 here).
  bool enforcing_consecutive_5xx = true;
  bool enforcing_consecutive_gateway_failure = false;
  // How often an endpoint that stayed in earns back one of its ejections.
  std::chrono::milliseconds interval{10000};
  std::chrono::milliseconds base_ejection_time{30000};
  std::chrono::milliseconds max_ejection_time{300000};
  uint32_t max_ejection_percent = 10;
  // Eject one endpoint even when that one is above max_ejection_percent.
  bool always_eject_one_host = false;
  bool operator==(const OutlierDetectionConfig&) const = default;
};

// envoy.config.cluster.v3.CircuitBreakers, the DEFAULT priority's
// thresholds (upstream/circuit_breaker.h). Envoy applies these defaults to
// every cluster, with or without the field.
struct CircuitBreakerConfig {
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  uint32_t max_requests = 1024;
  uint32_t max_retries = 3;
  // Envoy's retry_budget: when set, retries in flight may be
  // budget_percent of the requests in flight and pending, and at least
  // min_retry_concurrency; max_retries no longer applies.
  struct RetryBudget {
    double budget_percent = 20.0;
    uint32_t min_retry_concurrency = 3;
    bool operator==(const RetryBudget&) const = default;
  };
  std::optional<RetryBudget> retry_budget;
  bool operator==(const CircuitBreakerConfig&) const = default;
};

struct ClusterConfig {
  std::string name;
  enum class LbPolicy { kRoundRobin, kLeastRequest };
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  std::chrono::milliseconds connect_timeout{5000};
  std::vector<Endpoint> endpoints;
  uint32_t least_request_choices = 2;

  // Where the endpoints come from (envoy.config.cluster.v3.Cluster.type).
  // STRICT_DNS: each host name among the endpoints is resolved every
  // dns_refresh_rate on the server's resolver thread, and every address of
  // the family chosen becomes an endpoint with the weight, health and
  // metadata of the one that named it (upstream/strict_dns.h); a snapshot
  // as built here still holds the names. LOGICAL_DNS: a host name is
  // resolved when connecting (upstream/connection_pool.cc).
  enum class Discovery { kStatic, kEds, kStrictDns, kLogicalDns };
  Discovery discovery = Discovery::kStatic;
  std::chrono::milliseconds dns_refresh_rate{5000};  // Envoy's default
  // Cluster.dns_lookup_family, as Envoy reads it: AUTO (the default) takes
  // the IPv6 addresses if there are any, else the IPv4 ones; V4_PREFERRED
  // the reverse; ALL both.
  enum class DnsFamily { kAuto, kV4Only, kV6Only, kV4Preferred, kAll };
  DnsFamily dns_family = DnsFamily::kAuto;
  // Cluster.health_checks[0], when there is one.
  std::optional<HealthCheckConfig> health_check;
  // Cluster.outlier_detection, when there is one.
  std::optional<OutlierDetectionConfig> outlier_detection;
  CircuitBreakerConfig circuit_breakers;
  // transport_socket with an UpstreamTlsContext: connections to the
  // endpoints speak TLS (nullptr: clear text).
  std::shared_ptr<const UpstreamTls> tls;
  // typed_extension_protocol_options' HttpProtocolOptions: the protocol the
  // proxy speaks to the endpoints. kAuto (TLS only) lets ALPN choose per
  // connection between h2 and http/1.1 (proxy/upstream/http2_upstream.h).
  enum class Protocol { kHttp1, kHttp2, kAuto };
  Protocol protocol = Protocol::kHttp1;
  // http2_protocol_options.max_concurrent_streams: streams per HTTP/2
  // connection at most, below the peer's SETTINGS_MAX_CONCURRENT_STREAMS
  // (0: the peer's alone).
  uint32_t max_concurrent_streams = 0;
  // The laptop's end of a tunnel (proxy/tunnel/local_config.h), never from
  // xDS: a connect failure is answered 503 with `x-causeway-fallback:
  // local-refused` and no body, on which staging serves the request.
  bool connect_failure_fallback = false;

  // The load balancer keeps each worker's pick state per id: a cluster is
  // not modified once it has served a pick (a change is a new ClusterConfig).
  UniqueId id;
};

struct RoutingKeyTable;  // config/routing_key_guard_config.h

struct ListenerConfig {
  std::string name;
  std::string address;  // IP literal
  uint16_t port = 0;    // 0: any free port (tests)
  std::string route_config_name;
  std::shared_ptr<const RouteTable> inline_routes;  // HCM route_config
  // Envoy HCM stream_idle_timeout default 5 min; request_headers_timeout
  // and request_timeout (the whole request received) off, as in Envoy; the
  // hub's listeners set a request_headers_timeout (xds/translate_listener.cc).
  std::chrono::milliseconds idle_timeout{300000};
  std::chrono::milliseconds request_headers_timeout{0};
  std::chrono::milliseconds request_timeout{0};
  // Filter chains with a DownstreamTlsContext, chosen by SNI (tls_inspector
  // among the listener_filters). Empty: the listener speaks clear text only.
  std::vector<std::shared_ptr<const DownstreamTlsChain>> tls_chains;
  // The context TLS handshakes start with, choosing among tls_chains by SNI
  // (nullptr when there are none).
  std::shared_ptr<DownstreamTls> tls;
  // Whether a chain without filter_chain_match serves clear-text clients.
  bool plain_chain = true;
  // HCM codec_type: AUTO serves HTTP/1.1 and HTTP/2 (prior knowledge in
  // clear text, ALPN "h2" over TLS); HTTP1 and HTTP2 one of them only.
  enum class Codec { kAuto, kHttp1, kHttp2 };
  Codec codec = Codec::kAuto;
  // The routing-key guard's table (config/routing_key_guard_config.h); null
  // when the listener has none. Only an edge proxy applies it.
  std::shared_ptr<const RoutingKeyTable> key_guard;
};

struct ProxyConfig {
  std::vector<ListenerConfig> listeners;
  absl::flat_hash_map<std::string, std::shared_ptr<const RouteTable>> routes;
  absl::flat_hash_map<std::string, std::shared_ptr<const ClusterConfig>> clusters;

  const ListenerConfig* FindListener(std::string_view name) const;
  // The listener's route table: inline, or by RDS name (nullptr if absent).
  const RouteTable* RoutesFor(const ListenerConfig& listener) const;
  const ClusterConfig* FindCluster(std::string_view name) const;
};

using ProxyConfigSnapshot = std::shared_ptr<const ProxyConfig>;

}  // namespace causeway::proxy
