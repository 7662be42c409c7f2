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

}  // namespace causeway::xds::internal
