// Pieces shared by the translate_*.cc files; not part of the public API.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/status.h"
#include "common/strings.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "xds/translate.h"

namespace causeway::xds::internal {

// The filter_metadata namespace Envoy's subset load balancer reads.
inline constexpr std::string_view kLbMetadataNamespace = "envoy.lb";

// `metadata` as filter_metadata["envoy.lb"] = {key: "value", ...}.
envoy::config::core::v3::Metadata LbMetadata(const std::map<std::string, std::string>& metadata);

// The virtual host of `domain` with every route attached to it, in match
// order. FailedPrecondition when a referenced route group or cluster is
// missing, or a regex does not compile.
absl::StatusOr<envoy::config::route::v3::VirtualHost> TranslateVirtualHost(
    const ZoneIndex& zone, const model::Domain& domain);

// Adds the clusters the routes of `domain` refer to. FailedPrecondition when a
// route's group is missing.
absl::Status CollectClusters(const ZoneIndex& zone, const model::Domain& domain,
                             std::set<std::string>* clusters);

// An HttpConnectionManager with the router as its only (and so last) filter;
// the caller sets the route specifier (rds or route_config).
envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager
BaseConnectionManager(std::string stat_prefix);

// Cluster `tls`: a transport socket with an UpstreamTlsContext that verifies
// the peer (ca_file, else the system bundle; sni as the name to match);
// nothing when the cluster has no tls.
void AddUpstreamTls(const model::Cluster& cluster, envoy::config::cluster::v3::Cluster* out);

// Cluster `protocol`: HttpProtocolOptions under typed_extension_protocol_options
// for http2 and auto; nothing for http1 (Envoy's default).
void AddProtocolOptions(const model::Cluster& cluster, envoy::config::cluster::v3::Cluster* out);

// Domain `tls`: when any of `domains` (one port's, sorted by name) has tls,
// adds the TLS inspector and one filter chain per TLS domain, matched by SNI
// and carrying the plain chain's filters, before the plain chain, which stays
// last without a match. `listener` must hold exactly its plain chain.
void AddDownstreamTls(const std::vector<const model::Domain*>& domains,
                      envoy::config::listener::v3::Listener* listener);

// --- intercepts (translate_intercept.cc) ------------------------------------

// The cluster of an intercept's tunnel: "intercept:NAME". Object names never
// hold ':', so it cannot clash with a Cluster of the zone.
inline constexpr std::string_view kInterceptClusterPrefix = "intercept:";
std::string InterceptClusterName(std::string_view intercept);

// A full-match RE2 regex for a `baggage` header holding the list member
// causeway-key=KEY (with or without properties, anywhere in the list).
std::string BaggageKeyRegex(std::string_view key);

// One Envoy route per carrier of the routing key, in this order: header
// x-causeway-key, baggage entry causeway-key, cookie causeway-key.
struct InterceptRule {
  std::string carrier;  // "header" | "baggage" | "cookie": the route name's last part
  model::Rule rule;
};
std::vector<InterceptRule> InterceptRules(const model::Intercept& intercept);

// The header a key route adds to the request (overwriting any the client
// sent): the holder of the tunnel reads the intercept's name from it.
inline constexpr std::string_view kInterceptHeader = "x-causeway-intercept";
// Adds that header, naming `intercept`, to a key route.
void AddInterceptHeader(const model::Intercept& intercept, envoy::config::route::v3::Route* route);

// The intercepts (with a tunnel) of the clusters `route` sends to through its
// own rules, its group's rules or its group's default; by cluster, then name.
std::vector<const model::Intercept*> InterceptsOfRoute(const ZoneIndex& zone,
                                                       const model::Route& route,
                                                       const model::RouteGroup& group);

// The cluster an intercept's routes send to: one instance, the tunnel's
// address (none without a tunnel).
model::Cluster InterceptCluster(const model::Intercept& intercept);

}  // namespace causeway::xds::internal
