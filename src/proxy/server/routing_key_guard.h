// The routing-key guard of an edge proxy (docs/two-way-routing.md, "Keys at
// the edge"): a key that comes from outside staging is trusted only with its
// proof. At the edge each carrier's value must be `KEY~PROOF` whose proof
// hashes (SHA-256, lowercase hex) to one the listener's table holds for
// KEY; such a value becomes the bare `KEY` that routes inside staging match,
// and any other (a bare key, a wrong proof, a key the table lacks) is
// removed from its carrier: the `x-causeway-key` header, the `causeway-key`
// member of `baggage` (other members stay) or the `causeway-key` cookie
// (other cookies stay). Without a table every key is removed: an edge that
// cannot check keys does not pass them.
//
// It runs once a request's headers are final and before it is routed, so
// no route ever matches a key that was not proven. A proxy that is not an
// edge keeps keys as they come.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "proxy/codec/http1.h"
#include "proxy/config/routing_key_guard_config.h"
#include "proxy/server/proxy_counters.h"
#include "proxy/server/stream.h"

namespace causeway::proxy {

// The proof separator: neither routing keys nor base64url contain it.
inline constexpr char kKeyProofSeparator = '~';

struct KeyGuardResult {
  int verified = 0;  // carrier values that had their proof, now bare keys
  int stripped = 0;  // carrier values removed
};

// Checks every key carrier of `request` against `table` (nullptr: none, so
// every key goes). Rewritten header values are kept in `*storage`, which
// must outlive the request's use of its headers.
KeyGuardResult GuardRoutingKeys(const RoutingKeyTable* table, http1::RequestHead& request,
                                std::string* storage);

// The request path's hook: on an edge proxy, guards the request with its
// listener's table, counts what it did and notes it for the access log
// ("verified" or "stripped" in `info.key_guard`). Nothing otherwise.
void GuardRequestKeys(bool edge, const ListenerConfig& listener, http1::RequestHead& request,
                      StreamInfo& info, ProxyCounters& counters);

}  // namespace causeway::proxy
