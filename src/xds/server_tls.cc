#include "xds/server_tls.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/strings.h"

namespace causeway::xds {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

absl::Status Bad(std::string_view flag, const std::string& file, std::string_view what) {
  ERR_clear_error();
  return absl::InvalidArgumentError(StrCat(flag, " ", file, ": ", what));
}

std::unique_ptr<BIO, BioFree> Open(const std::string& file) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_file(file.c_str(), "r"));
}

// The first certificate of a PEM file (OpenSSL's reader; nothing parsed here).
absl::StatusOr<std::unique_ptr<X509, X509Free>> ReadCert(std::string_view flag,
                                                         const std::string& file) {
  auto bio = Open(file);
  if (bio == nullptr) return Bad(flag, file, "cannot be read");
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) return Bad(flag, file, "holds no PEM certificate");
  return cert;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsFiles& files, std::chrono::seconds refresh) {
  if (!files.enabled()) return grpc::InsecureServerCredentials();
  if (files.cert.empty() || files.key.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key go together (--client-ca needs both)");
  }
  auto cert = ReadCert("--tls-cert", files.cert);
  if (!cert.ok()) return cert.status();
  auto key_bio = Open(files.key);
  if (key_bio == nullptr) return Bad("--tls-key", files.key, "cannot be read");
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) return Bad("--tls-key", files.key, "holds no PEM private key");
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    return Bad("--tls-key", files.key, StrCat("is not the key of the certificate in ", files.cert));
  }
  if (!files.client_ca.empty()) {
    auto ca = ReadCert("--client-ca", files.client_ca);
    if (!ca.ok()) return ca.status();
  }

  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key, files.cert, files.client_ca, static_cast<unsigned>(refresh.count()));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (files.client_ca.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace causeway::xds
