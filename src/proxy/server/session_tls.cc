// Session::RunTls: TLS termination on a listener whose filter chains carry
// a DownstreamTlsContext (config/tls_context.h). As Envoy's tls_inspector,
// the first byte of the connection decides: a TLS handshake record (0x16)
// is a TLS client, served by the chain its SNI names (a ClientHello no
// chain takes is refused); anything else is a clear-text client, served by
// the chain without a filter_chain_match if there is one. After the
// handshake the connection is the same session, reading and writing
// through the TLS stream (transport_io.h): HTTP/2 if ALPN chose "h2",
// else HTTP/1.1.
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/config/tls_context.h"
#include "proxy/server/session.h"

namespace causeway::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// The first byte of every TLS connection: a handshake record's content type.
constexpr unsigned char kTlsHandshakeRecord = 0x16;

}  // namespace

asio::awaitable<Session::FirstByte> Session::PeekFirstByte() {
  while (true) {
    unsigned char byte = 0;
    const ssize_t n = ::recv(down_.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 1) co_return byte == kTlsHandshakeRecord ? FirstByte::kTls : FirstByte::kClearText;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      co_return FirstByte::kNone;
    }
    auto [ec] = co_await down_.socket.async_wait(tcp::socket::wait_read,
                                                 asio::as_tuple(asio::use_awaitable));
    if (ec) co_return FirstByte::kNone;
  }
}

asio::awaitable<bool> Session::Handshake(DownstreamTls& tls) {
  down_.tls = std::make_unique<TlsStream>(down_.socket, tls.context());
  auto [ec] = co_await down_.tls->async_handshake(asio::ssl::stream_base::server,
                                                  asio::as_tuple(asio::use_awaitable));
  ProxyCounters& counters = worker_->shared().counters;
  if (!ec) {
    Count(counters.ssl_handshake);
    const unsigned char* alpn = nullptr;
    unsigned int alpn_size = 0;
    SSL_get0_alpn_selected(down_.tls->native_handle(), &alpn, &alpn_size);
    alpn_h2_ = std::string_view(reinterpret_cast<const char*>(alpn), alpn_size) == "h2";
    co_return true;
  }
  Count(counters.ssl_connection_error);
  // A ClientHello whose SNI no chain serves was refused by the chain
  // selection (config/tls_context.cc).
  const char* sni = SSL_get_servername(down_.tls->native_handle(), TLSEXT_NAMETYPE_host_name);
  if (tls.Find(sni == nullptr ? "" : sni) == nullptr) Count(counters.no_filter_chain_match);
  co_return false;
}

asio::awaitable<void> Session::RunTls(std::shared_ptr<Session> self) {
  Session& s = *self;
  const ListenerConfig& lc = s.listener_->config;
  // Held through the handshake: a configuration update may replace the
  // listener's while this connection waits (its chain selection runs in
  // the handshake), and the listener may even lose its TLS chains.
  const std::shared_ptr<DownstreamTls> tls = lc.tls;
  const bool plain_chain = lc.plain_chain;
  // Until the first request's head, the wait is bounded as a head's is: the
  // header timeout when there is one, else the idle timeout.
  const auto limit =
      lc.request_headers_timeout.count() > 0 ? lc.request_headers_timeout : lc.idle_timeout;
  if (limit.count() > 0) s.down_.watchdog.Arm(limit, &s.down_.socket);
  const FirstByte first = co_await s.PeekFirstByte();
  bool serve = false;
  if (first == FirstByte::kTls && tls != nullptr) {
    serve = co_await s.Handshake(*tls);
  } else if (first == FirstByte::kClearText) {
    serve = plain_chain || tls == nullptr;
    if (!serve) Count(s.worker_->shared().counters.no_filter_chain_match);
  }
  s.down_.watchdog.Disarm();
  if (!serve) {
    s.Close();
    co_return;
  }
  co_await Run(std::move(self));
}

}  // namespace causeway::proxy
