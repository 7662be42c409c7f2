// The router stage: where a request goes, decided once per request. The
// listener's route table, virtual host, route, weighted cluster and the
// cluster's configuration are looked up here and nowhere else; the stages
// after it (upstream requests, retries, the tunnel) only read the decision.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "proxy/codec/http1.h"
#include "proxy/config/proxy_config.h"
#include "proxy/server/message_builder.h"

namespace causeway::proxy {

struct RouteDecision {
  enum class Kind {
    kForward,         // to `cluster`
    kDirectResponse,  // the route's direct_response
    kLocalReply,      // an error the proxy answers itself (status, body, flags)
  };
  Kind kind = Kind::kLocalReply;
  const Route* route = nullptr;  // null when no route matched
  const ClusterTarget* target = nullptr;
  const ClusterConfig* cluster = nullptr;  // null unless kForward
  std::string_view cluster_name;           // the picked target's, even if unknown
  Mutations request_mutations{};
  Mutations response_mutations{};  // also for local replies
  int status = 0;
  std::string_view body;
  std::string_view flags;
};

// Decides for `request` on `listener` under `config` (which may be null: no
// configuration yet). `random` picks among weighted
// clusters; it is called only for a route that forwards.
// `skip_intercept_routes`: decide as if the zone had no intercepts (the
// fallback of a key-routed request, intercept_fallback.h).
RouteDecision DecideRoute(const ProxyConfig* config, const ListenerConfig& listener,
                          const http1::RequestHead& request, absl::FunctionRef<uint64_t()> random,
                          bool skip_intercept_routes = false);

}  // namespace causeway::proxy
