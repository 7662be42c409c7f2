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

// `close`: tell the client the connection ends after this response. The
// upstream's reason phrase is copied unless it holds anything but SP, HTAB
// and visible ASCII (see SafeReasonPhrase); then the standard phrase for the
// status is written instead, and the call returns true.
bool BuildDownstreamResponse(const http1::ResponseHead& response, int downstream_minor, bool close,
                             Mutations mutations, std::string* out);

void BuildLocalReply(int status, std::string_view body, bool close, bool head_only,
                     Mutations mutations, std::string* out);

// The RFC 9110 reason phrase of `status`; empty for a code without one.
std::string_view ReasonPhrase(int status);

// True if `reason` may be written into a status line as it is: SP, HTAB and
// VCHAR only. RFC 9112 also allows obs-text, but a reason phrase carries no
// meaning (clients must ignore it), so bytes some recipient could misread
// are not worth forwarding; CR, LF and NUL, which could end the status line
// early in a lenient recipient, are the point.
bool SafeReasonPhrase(std::string_view reason);

}  // namespace causeway::proxy
