// One request's life on a downstream connection, as the pieces of the
// request path share it: the router stage (router_stage.h) decides where it
// goes, upstream requests (upstream_request.h) carry its attempts under a
// retry state (retry_state.h), the tunnel (tunnel.h) takes over after an
// upgrade. A second codec (HTTP/2) produces the same Stream from its frames.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/time_source.h"
#include "proxy/codec/buffer.h"
#include "proxy/codec/http1.h"
#include "proxy/config/proxy_config.h"
#include "proxy/config/tls_stream.h"
#include "proxy/server/access_log.h"
#include "proxy/server/stream_sink.h"
#include "proxy/server/watchdog.h"

namespace causeway::proxy {

// Up to this many requests in progress on the worker, a request's bounded
// steps finish at once when their socket is ready; beyond, they queue
// (immediate_io.h). A sidecar's everyday load and the burst that piles up
// while the machine stalls stay below it; a saturated worker (closed-loop
// clients on dozens of connections) is far above.
inline constexpr int kAtOnceUpTo = 8;

// Socket reads go straight into the connection buffers and fill all their
// free space, at least this much (a fresh buffer is one 32 KiB block, so a
// 16 KiB response with its head arrives in one read and leaves in one write).
inline constexpr size_t kReadChunk = 4 * 1024;

// The downstream connection's state that outlives a request: the session
// owns it, a Stream borrows it for one request.
struct Downstream {
  Downstream(boost::asio::ip::tcp::socket s, TimeSource& t, boost::asio::io_context& io)
      : socket(std::move(s)), time(t), watchdog(t, io) {}
  boost::asio::ip::tcp::socket socket;
  // The TLS session over `socket` on a TLS filter chain (nullptr: clear
  // text); reads and writes go through it (transport_io.h).
  std::unique_ptr<TlsStream> tls;
  TimeSource& time;
  Watchdog watchdog;  // idle and header timeouts, then the request's deadlines
  ByteBuffer in;      // bytes read from the client and not yet used
  std::string head;   // copy of the current request head; req points into it
  http1::RequestHead req;
  http1::ResponseHead resp;
  std::string out;     // serialized downstream head
  std::string up_out;  // serialized upstream head
  // The value of an x-causeway-key this proxy added to req (routing_key_stamp.h).
  std::string stamped_key;
  bool body_consumed = true;
  // The stream idle timeout of the listener, for a tunnel after an upgrade.
  std::chrono::milliseconds tunnel_idle_timeout{0};
  // An HTTP/2 stream's body source and response sink (stream_sink.h);
  // nullptr: the request came over `socket` in HTTP/1.1.
  StreamSink* sink = nullptr;
  // Whose load decides between at once and queued (null: always at once).
  const std::atomic<int>* requests_in_progress = nullptr;

  // Whether reads and writes finish at once when ready (a lightly loaded
  // worker) or queue like any Asio operation: server/immediate_io.h.
  bool AtOnce() const {
    return requests_in_progress == nullptr ||
           requests_in_progress->load(std::memory_order_relaxed) <= kAtOnceUpTo;
  }
  // Consumes a request body that is wholly buffered; false if it is not.
  bool SkipBufferedBody();
};

// What the access log says about a request, filled in as it goes.
struct StreamInfo {
  std::chrono::system_clock::time_point start_wall;
  std::chrono::steady_clock::time_point start;
  ProxyConfigSnapshot config;  // held for the whole request
  const ListenerConfig* listener = nullptr;
  const Route* route = nullptr;
  std::string_view cluster;
  std::string upstream_address;
  int status = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  std::chrono::microseconds upstream_time{-1};
  uint32_t attempts = 0;
  std::string_view flags;
  std::string_view details;  // AccessLogEntry::details
  // What the edge's routing-key guard did (AccessLogEntry::key_guard), and
  // the header values it rewrote, which the request's headers point into.
  std::string_view key_guard;
  std::string key_guard_storage;
  // The details of the last failed connect when it says more than the flag
  // UF does (a TLS handshake's failure and its reason).
  std::string connect_failure;
  // Where a key-routed request went (AccessLogEntry::intercept).
  std::string intercept;
};

// The access log fields a request's StreamInfo holds, the same for every
// codec (each fills in the request line itself); `now` ends the duration.
inline void FillLogEntry(const StreamInfo& info, std::chrono::steady_clock::time_point now,
                         AccessLogEntry& e) {
  e.start_time = info.start_wall;
  e.status = info.status;
  e.route = info.route != nullptr ? std::string_view(info.route->name) : std::string_view();
  e.cluster = info.cluster;
  e.upstream_address = info.upstream_address;
  e.bytes_received = info.bytes_received;
  e.bytes_sent = info.bytes_sent;
  e.duration = std::chrono::duration_cast<std::chrono::microseconds>(now - info.start);
  e.upstream_time = info.upstream_time;
  e.attempts = info.attempts;
  e.flags = info.flags;
  e.key_guard = info.key_guard;
  e.details = info.details;
  e.intercept = info.intercept;
}

}  // namespace causeway::proxy
