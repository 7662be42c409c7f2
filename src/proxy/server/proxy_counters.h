// Process-wide counters of the request path that are not per cluster or
// endpoint: why requests and connections were cut short. Named as Envoy
// names them (without its listener/HCM prefixes), shown on the admin page's
// /stats. Workers add with relaxed atomics; readers only sum.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace causeway::proxy {

struct ProxyCounters {
  // An edge proxy's routing-key guard (server/routing_key_guard.h): requests
  // whose keys all had their proof, and requests a key was removed from.
  std::atomic<uint64_t> routing_key_verified{0};
  std::atomic<uint64_t> routing_key_stripped{0};
  // A request head not complete within request_headers_timeout (408).
  std::atomic<uint64_t> downstream_rq_header_timeout{0};
  // A request body not complete within request_timeout (408).
  std::atomic<uint64_t> downstream_rq_timeout{0};
  // A stream with no progress for stream_idle_timeout: a stalled upload
  // (408), a client not reading its response, an idle tunnel.
  std::atomic<uint64_t> downstream_rq_idle_timeout{0};
  // The route's timeout passed before the response (504) or mid-body.
  std::atomic<uint64_t> upstream_rq_timeout{0};
  // One try's per_try_timeout passed (retried, or 504).
  std::atomic<uint64_t> upstream_rq_per_try_timeout{0};
  // Connections refused because the process or listener limit was reached.
  std::atomic<uint64_t> downstream_cx_overflow{0};
  // accept() failed for lack of descriptors or memory (the listener backs off).
  std::atomic<uint64_t> downstream_cx_accept_resource_errors{0};
  // TLS listeners (server/session_tls.cc): handshakes completed, handshakes
  // that failed (a client without the required certificate, a protocol
  // error, no chain for the SNI), and connections no filter chain takes (a
  // TLS SNI matching no chain, clear text without a plain chain).
  std::atomic<uint64_t> ssl_handshake{0};
  std::atomic<uint64_t> ssl_connection_error{0};
  std::atomic<uint64_t> no_filter_chain_match{0};
  // Key-routed requests (server/intercept_fallback.h): answered by the
  // laptop, and sent to staging because the laptop could not answer.
  std::atomic<uint64_t> intercept_laptop{0};
  std::atomic<uint64_t> intercept_fallback{0};

  template <typename F>
  void ForEach(F&& f) const {
    f("routing_key.verified", routing_key_verified);
    f("routing_key.stripped", routing_key_stripped);
    f("downstream_rq_header_timeout", downstream_rq_header_timeout);
    f("downstream_rq_timeout", downstream_rq_timeout);
    f("downstream_rq_idle_timeout", downstream_rq_idle_timeout);
    f("upstream_rq_timeout", upstream_rq_timeout);
    f("upstream_rq_per_try_timeout", upstream_rq_per_try_timeout);
    f("downstream_cx_overflow", downstream_cx_overflow);
    f("downstream_cx_accept_resource_errors", downstream_cx_accept_resource_errors);
    f("ssl.handshake", ssl_handshake);
    f("ssl.connection_error", ssl_connection_error);
    f("no_filter_chain_match", no_filter_chain_match);
    f("intercept.laptop", intercept_laptop);
    f("intercept.fallback", intercept_fallback);
  }
};

inline void Count(std::atomic<uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace causeway::proxy
