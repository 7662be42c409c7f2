// The client side of TLS for HttpClient (https:// URLs): OpenSSL through
// Asio's SSL stream, the peer verified against a CA file, CA data or the
// system's trusted CAs, SNI sent, the host name (or IP address) checked
// against the certificate, and optionally a client certificate (mutual TLS,
// as a Kubernetes API server with client-CA authentication requires).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"
#include "boost/system/error_code.hpp"

namespace causeway::tls {

struct ClientOptions {
  std::string ca_file;  // PEM file of the CA(s) to trust
  std::string ca_pem;   // or the PEM text itself; neither: the system store
  // A client certificate chain and its private key, PEM text (both or neither).
  std::string cert_pem;
  std::string key_pem;
  bool insecure_skip_verify = false;  // no check of the server's certificate
};

// INVALID_ARGUMENT naming the file (or saying which PEM text) when
// something does not load. Everything is set on the context before any
// connection is made from it: OpenSSL copies the verify mode and the client
// certificate into each connection when it is created.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeClientContext(
    const ClientOptions& options);

// Before the handshake on `ssl`: SNI for a host name (not for an IP
// address, which SNI may not carry) and the name or address the
// certificate must be for.
absl::Status PrepareClient(SSL* ssl, const std::string& host);

// A failed handshake explained: the certificate problem OpenSSL found (an
// unknown CA, a name mismatch, an expired certificate) and which CAs were
// trusted (`ca_source`: a file name or a description of CA data; "" for the
// system store), e.g. "TLS handshake with hub:8443 failed: certificate
// verify failed: unable to get local issuer certificate (the server's
// certificate is not signed by a CA in ca.crt)".
std::string HandshakeError(SSL* ssl, const boost::system::error_code& ec, const std::string& where,
                           const std::string& ca_source);

}  // namespace causeway::tls
