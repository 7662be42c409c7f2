// HTTP/2 upstream connections of one worker (http2_upstream.h), per
// endpoint: a request takes a stream on a connection with room, and a new
// connection opens only when every connection to the endpoint is full (at
// its peer's SETTINGS_MAX_CONCURRENT_STREAMS or the cluster's cap), failed,
// or going away. While a connection is being opened, the requests that
// arrive meanwhile wait for it instead of each opening its own.
// Single-threaded, like the worker.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "proxy/config/proxy_config.h"
#include "proxy/upstream/connection_pool.h"
#include "proxy/upstream/http2_upstream.h"
#include "proxy/upstream/http2_upstream_stream.h"

namespace causeway::proxy {

class Http2Pool {
 public:
  Http2Pool() = default;
  ~Http2Pool();
  Http2Pool(const Http2Pool&) = delete;
  Http2Pool& operator=(const Http2Pool&) = delete;

  // A stream slot to `endpoint` (connected or failed within `timeout`);
  // `cap`: the cluster's max_concurrent_streams (0: the peer's alone).
  boost::asio::awaitable<absl::StatusOr<std::unique_ptr<Http2UpstreamStream>>> Acquire(
      const Endpoint& endpoint, std::chrono::milliseconds timeout,
      std::shared_ptr<const UpstreamTls> tls, uint32_t cap);
  // A stream slot on an open connection with room, or nullptr (never
  // connects): an auto cluster asks here before the HTTP/1.1 pool.
  std::unique_ptr<Http2UpstreamStream> TakeReady(const std::string& key);
  // A connection whose TLS handshake chose h2 joins the pool; a stream slot
  // on it.
  std::unique_ptr<Http2UpstreamStream> Adopt(std::unique_ptr<UpstreamConnection> transport,
                                             uint32_t cap);
  // Closes every connection (shutdown: before the io_context goes).
  void Clear();
  // Drain: no new streams; each connection closes once its streams ended.
  void Drain();
  // Connections to `key` open or opening (tests, admin).
  size_t ConnectionCount(const std::string& key) const;

 private:
  using Connections = std::vector<std::shared_ptr<Http2Connection>>;
  // A connection of `list` with room (finished ones are dropped), or nullptr.
  std::shared_ptr<Http2Connection> WithRoom(Connections& list);

  absl::flat_hash_map<std::string, Connections> endpoints_;
};

}  // namespace causeway::proxy
