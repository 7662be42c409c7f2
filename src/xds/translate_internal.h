// Pieces shared by the translate_*.cc files; not part of the public API.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

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

}  // namespace causeway::xds::internal
