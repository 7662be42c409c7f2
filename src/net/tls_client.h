// The client side of TLS for HttpClient (https:// URLs): OpenSSL through
// Asio's SSL stream, the peer verified against a CA file or the system's
// trusted CAs, SNI sent, the host name (or IP address) checked against the
// certificate.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"
#include "boost/system/error_code.hpp"

namespace causeway::tls {

// `ca_file`: PEM file of the CA(s) to trust; "" for the system store.
// INVALID_ARGUMENT naming the file when it does not load.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeClientContext(
    const std::string& ca_file);

// Before the handshake on `ssl`: SNI for a host name (not for an IP
// address, which SNI may not carry) and the name or address the
// certificate must be for.
absl::Status PrepareClient(SSL* ssl, const std::string& host);

// A failed handshake explained: the certificate problem OpenSSL found (an
// unknown CA, a name mismatch, an expired certificate) and which CAs were
// trusted, e.g. "TLS handshake with hub:8443 failed: certificate verify
// failed: unable to get local issuer certificate (the server's certificate
// is not signed by a CA in ca.crt)".
std::string HandshakeError(SSL* ssl, const boost::system::error_code& ec, const std::string& where,
                           const std::string& ca_file);

}  // namespace causeway::tls
