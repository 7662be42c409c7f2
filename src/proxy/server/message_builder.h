// Serializes the heads the proxy sends: requests to upstreams, responses to
// downstreams and local replies (404/503/504/direct responses). Hop-by-hop
// headers are dropped and the route's header mutations applied here.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "proxy/codec/http1.h"
#include "proxy/config/proxy_config.h"

namespace causeway::proxy {

// Mutations in order of application (route, virtual host, route table);
// null entries are skipped.
using Mutations = std::array<const HeaderMutation*, 3>;

struct UpstreamRequestParams {
  std::string_view target;  // after prefix_rewrite
  std::string_view host;    // after host_rewrite
  bool upgrade = false;
};

void BuildUpstreamRequest(const http1::RequestHead& request, const UpstreamRequestParams& params,
                          Mutations mutations, std::string* out);

// `close`: tell the client the connection ends after this response.
void BuildDownstreamResponse(const http1::ResponseHead& response, int downstream_minor, bool close,
                             Mutations mutations, std::string* out);

void BuildLocalReply(int status, std::string_view body, bool close, bool head_only,
                     Mutations mutations, std::string* out);

std::string_view ReasonPhrase(int status);

}  // namespace causeway::proxy
