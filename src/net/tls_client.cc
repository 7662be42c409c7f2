#include "net/tls_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "boost/asio/ip/address.hpp"
#include "common/strings.h"

namespace causeway::tls {

namespace ssl = boost::asio::ssl;

namespace {

absl::Status LoadTrust(const ClientOptions& options, ssl::context& ctx) {
  boost::system::error_code ec;
  if (!options.ca_file.empty()) {
    ctx.load_verify_file(options.ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          StrCat("CA file ", options.ca_file, ": cannot load PEM certificates: ", ec.message()));
    }
  } else if (!options.ca_pem.empty()) {
    ctx.add_certificate_authority(boost::asio::buffer(options.ca_pem), ec);
    if (ec) {
      return absl::InvalidArgumentError(
          StrCat("CA certificates (PEM data): cannot load: ", ec.message()));
    }
  } else {
    ctx.set_default_verify_paths(ec);
    if (ec) {
      return absl::FailedPreconditionError(
          StrCat("cannot load the system's trusted CAs: ", ec.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status LoadClientCertificate(const ClientOptions& options, ssl::context& ctx) {
  if (options.cert_pem.empty() && options.key_pem.empty()) return absl::OkStatus();
  if (options.cert_pem.empty() || options.key_pem.empty()) {
    return absl::InvalidArgumentError(
        StrCat("client certificate: a ", options.cert_pem.empty() ? "key" : "certificate",
               " is given without its ", options.cert_pem.empty() ? "certificate" : "key"));
  }
  boost::system::error_code ec;
  ctx.use_certificate_chain(boost::asio::buffer(options.cert_pem), ec);
  if (ec) {
    return absl::InvalidArgumentError(StrCat("client certificate (PEM data): ", ec.message()));
  }
  ctx.use_private_key(boost::asio::buffer(options.key_pem), ssl::context::pem, ec);
  if (ec) return absl::InvalidArgumentError(StrCat("client key (PEM data): ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<ssl::context>> MakeClientContext(const ClientOptions& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx->set_verify_mode(options.insecure_skip_verify ? ssl::verify_none : ssl::verify_peer);
  if (!options.insecure_skip_verify) {
    if (absl::Status s = LoadTrust(options, *ctx); !s.ok()) return s;
  }
  if (absl::Status s = LoadClientCertificate(options, *ctx); !s.ok()) return s;
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
                           const std::string& ca_source) {
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
      message +=
          ca_source.empty()
              ? " (the server's certificate is not signed by a CA the system trusts; "
                "give its CA with --ca FILE or CAUSEWAY_CA)"
              : StrCat(" (the server's certificate is not signed by a CA in ", ca_source, ")");
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
