#include "net/tls_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "boost/asio/ip/address.hpp"
#include "common/strings.h"

namespace causeway::tls {

namespace ssl = boost::asio::ssl;

absl::StatusOr<std::shared_ptr<ssl::context>> MakeClientContext(const std::string& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx->set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) {
      return absl::FailedPreconditionError(
          StrCat("cannot load the system's trusted CAs: ", ec.message()));
    }
  } else {
    ctx->load_verify_file(ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          StrCat("CA file ", ca_file, ": cannot load PEM certificates: ", ec.message()));
    }
  }
  return ctx;
}

absl::Status PrepareClient(SSL* ssl, const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);  // parses as an address?
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (!ec) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
      return absl::InvalidArgumentError(StrCat("cannot verify TLS for address ", host));
    }
    return absl::OkStatus();
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 || SSL_set1_host(ssl, host.c_str()) != 1) {
    return absl::InvalidArgumentError(StrCat("cannot verify TLS for host name ", host));
  }
  return absl::OkStatus();
}

std::string HandshakeError(SSL* ssl, const boost::system::error_code& ec, const std::string& where,
                           const std::string& ca_file) {
  std::string message = StrCat("TLS handshake with ", where, " failed: ", ec.message());
  long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) {
    if (ec.message().find("wrong version number") != std::string::npos ||
        ec.message().find("packet length too long") != std::string::npos) {
      message += " (is the server speaking plain HTTP? try http://)";
    }
    return message;
  }
  message += StrCat(": ", X509_verify_cert_error_string(result));
  switch (result) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      message += ca_file.empty()
                     ? " (the server's certificate is not signed by a CA the system trusts; "
                       "give its CA with --ca FILE or CAUSEWAY_CA)"
                     : StrCat(" (the server's certificate is not signed by a CA in ", ca_file, ")");
      break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      message += " (the server's certificate is not for the name or address in the URL)";
      break;
    default:
      break;
  }
  return message;
}

}  // namespace causeway::tls
