// The byte pump behind an upgraded request (101 Switching Protocols): bytes
// copied both ways until each side ends, each end half-closing the other,
// and both sockets closed once neither carried a byte for the idle timeout
// (Envoy's stream idle timeout covers upgraded streams as well).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "common/time_source.h"
#include "proxy/codec/buffer.h"
#include "proxy/server/stream_idle_timeout.h"
#include "proxy/server/transport_io.h"

namespace causeway::proxy {

class Tunnel {
 public:
  // `idle_timeout` 0: no idle timeout.
  Tunnel(TimeSource& time, boost::asio::io_context& io, std::chrono::milliseconds idle_timeout);
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  // Pumps until both directions have ended. Bytes that arrived with the
  // heads go first: `downstream_pending` (read from the client past the
  // request) to the upstream, `upstream_pending` (past the 101 response) to
  // the client; both buffers are left empty. `at_once`: the first write to
  // the client may finish at once (server/immediate_io.h).
  // Either side may be a TLS session (transport_io.h).
  boost::asio::awaitable<void> Run(Transport downstream, ByteBuffer& downstream_pending,
                                   Transport upstream, ByteBuffer& upstream_pending, bool at_once);
  boost::asio::awaitable<void> Run(boost::asio::ip::tcp::socket& downstream,
                                   ByteBuffer& downstream_pending,
                                   boost::asio::ip::tcp::socket& upstream,
                                   ByteBuffer& upstream_pending, bool at_once) {
    return Run(Transport{&downstream}, downstream_pending, Transport{&upstream}, upstream_pending,
               at_once);
  }

  bool idle_timed_out() const { return idle_.fired() != StreamIdleTimeout::Fired::kNo; }
  uint64_t bytes_to_upstream() const { return bytes_[0]; }
  uint64_t bytes_to_downstream() const { return bytes_[1]; }

 private:
  boost::asio::awaitable<void> Pipe(Transport from, Transport to, int direction);
  // Closes both sockets once no byte moved for the idle timeout.
  StreamIdleTimeout idle_;
  uint64_t bytes_[2] = {0, 0};  // to upstream, to downstream
};

}  // namespace causeway::proxy
