// The TLS session of a connection, over the socket the connection owns
// alongside it (so the clear-text path keeps reading and writing the socket
// itself). Apart from tls_context.h so that the request path's headers need
// not include Envoy's TLS messages.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

namespace causeway::proxy {

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;

}  // namespace causeway::proxy
