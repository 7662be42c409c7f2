#include "proxy/config/tls_context.h"

#include <openssl/err.h>
#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace causeway::proxy {
namespace {

namespace ssl = boost::asio::ssl;
using envoy::extensions::transport_sockets::tls::v3::CommonTlsContext;

constexpr const char* kTlsCommon = ".typed_config.common_tls_context";

absl::Status TlsInvalid(const std::string& where, const std::string& message);

// A DataSource's file name: only files are read (inline key material would
// travel in the configuration).
absl::StatusOr<std::string> FileOf(const std::string& where,
                                   const envoy::config::core::v3::DataSource& source) {
  if (source.specifier_case() != envoy::config::core::v3::DataSource::kFilename ||
      source.filename().empty()) {
    return TlsInvalid(where, "only a filename is supported");
  }
  return source.filename();
}

absl::Status TlsInvalid(const std::string& where, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
}

// TLS 1.2 and later, as Envoy's default minimum; no renegotiation (as
// Envoy's default), so a chain is chosen once per connection.
void SetProtocols(ssl::context& ctx) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX_set_options(ctx.native_handle(), SSL_OP_NO_RENEGOTIATION);
}

// The one certificate chain and key of `common` (none is fine; more than
// one is refused: the proxy does not choose among them by key type).
absl::Status UseCertificate(const std::string& where, const CommonTlsContext& common,
                            ssl::context& ctx) {
  if (common.tls_certificates_size() == 0) return absl::OkStatus();
  if (common.tls_certificates_size() > 1) {
    return TlsInvalid(where + ".tls_certificates", "only one certificate is supported");
  }
  const auto& cert = common.tls_certificates(0);
  const std::string cert_where = where + ".tls_certificates[0].certificate_chain";
  const std::string key_where = where + ".tls_certificates[0].private_key";
  auto cert_file = FileOf(cert_where, cert.certificate_chain());
  if (!cert_file.ok()) return cert_file.status();
  auto key_file = FileOf(key_where, cert.private_key());
  if (!key_file.ok()) return key_file.status();
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(*cert_file, ec);
  if (ec) {
    return TlsInvalid(
        cert_where + ".filename",
        absl::StrCat(*cert_file, ": cannot load a PEM certificate chain: ", ec.message()));
  }
  ctx.use_private_key_file(*key_file, ssl::context::pem, ec);
  if (ec) {
    return TlsInvalid(key_where + ".filename",
                      absl::StrCat(*key_file, ": cannot load a PEM private key: ", ec.message()));
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return TlsInvalid(key_where + ".filename",
                      absl::StrCat(*key_file, " does not match the certificate in ", *cert_file));
  }
  return absl::OkStatus();
}

absl::Status UseTrustedCa(const std::string& where, const std::string& file, ssl::context& ctx) {
  if (file.empty()) return TlsInvalid(where, "required");
  boost::system::error_code ec;
  ctx.load_verify_file(file, ec);
  if (ec) {
    return TlsInvalid(where,
                      absl::StrCat(file, ": cannot load PEM CA certificates: ", ec.message()));
  }
  return absl::OkStatus();
}

// ALPN as the wire format OpenSSL takes. Listeners speak HTTP/2 too, so a
// server context offers "h2" (preferred) when the list has it; upstream
// connections speak HTTP/1.1 only, so a client offers "http/1.1" alone.
absl::Status UseAlpn(const std::string& where, const CommonTlsContext& common, ssl::context& ctx,
                     bool server) {
  bool http11 = false;
  bool h2 = false;
  for (const std::string& p : common.alpn_protocols()) {
    http11 = http11 || p == "http/1.1";
    h2 = h2 || p == "h2";
  }
  if (!http11) {
    if (common.alpn_protocols_size() == 0) return absl::OkStatus();
    return TlsInvalid(where + ".alpn_protocols",
                      "must include http/1.1 (the protocol every causeway-proxy TLS peer speaks)");
  }
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  static constexpr unsigned char kH2Http11[] = {2,   'h', '2', 8,   'h', 't',
                                                't', 'p', '/', '1', '.', '1'};
  if (server) {
    SSL_CTX_set_alpn_select_cb(
        ctx.native_handle(),
        [](SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
           unsigned int inlen, void* arg) {
          const bool offer_h2 = arg != nullptr;
          unsigned char* selected = nullptr;
          if (SSL_select_next_proto(&selected, outlen, offer_h2 ? kH2Http11 : kHttp11,
                                    offer_h2 ? sizeof(kH2Http11) : sizeof(kHttp11), in,
                                    inlen) != OPENSSL_NPN_NEGOTIATED) {
            return SSL_TLSEXT_ERR_NOACK;  // a client without our protocols: no ALPN, as nginx
          }
          *out = selected;
          return SSL_TLSEXT_ERR_OK;
        },
        h2 ? const_cast<unsigned char*>(kH2Http11) : nullptr);
  } else if (SSL_CTX_set_alpn_protos(ctx.native_handle(), kHttp11, sizeof(kHttp11)) != 0) {
    return TlsInvalid(where + ".alpn_protocols", "cannot be set");
  }
  return absl::OkStatus();
}

absl::Status ReadSanMatchers(
    const std::string& where,
    const envoy::extensions::transport_sockets::tls::v3::CertificateValidationContext& validation,
    UpstreamTls& out) {
  using SanType = envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher;
  for (int i = 0; i < validation.match_typed_subject_alt_names_size(); ++i) {
    const auto& m = validation.match_typed_subject_alt_names(i);
    const std::string at = absl::StrCat(where, ".match_typed_subject_alt_names[", i, "]");
    if (m.san_type() != SanType::DNS) return TlsInvalid(at + ".san_type", "only DNS is supported");
    if (m.matcher().match_pattern_case() != envoy::type::matcher::v3::StringMatcher::kExact ||
        m.matcher().exact().empty() || m.matcher().ignore_case()) {
      return TlsInvalid(at + ".matcher", "only a non-empty exact match is supported");
    }
    out.san_exact.push_back(m.matcher().exact());
  }
  return absl::OkStatus();
}

// Sessions resumed with a client certificate need an id context (OpenSSL
// refuses to resume without one when peers are verified).
void SetSessionContext(ssl::context& ctx) {
  static constexpr unsigned char kId[] = "causeway-proxy";
  SSL_CTX_set_session_id_context(ctx.native_handle(), kId, sizeof(kId) - 1);
}

// The ClientHello's SNI chooses the chain (DownstreamTls): its current
// certificates, its client verification and its client CA names.
int SelectChainBySni(SSL* ssl, int* alert, void* arg) {
  const auto* tls = static_cast<const DownstreamTls*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const DownstreamTlsChain* chain = tls->Find(name == nullptr ? "" : name);
  if (chain == nullptr) {
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  std::shared_ptr<ssl::context> ctx = chain->certificates->Current();
  // The SSL holds its own reference on the SSL_CTX from here.
  SSL_CTX* native = ctx->native_handle();
  if (SSL_set_SSL_CTX(ssl, native) != native) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  // Not carried over by SSL_set_SSL_CTX.
  SSL_set_verify(ssl, SSL_CTX_get_verify_mode(native), nullptr);
  if (STACK_OF(X509_NAME)* names = SSL_CTX_get_client_CA_list(native); names != nullptr) {
    SSL_set_client_CA_list(ssl, SSL_dup_CA_list(names));
  }
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

absl::StatusOr<std::shared_ptr<DownstreamTls>> DownstreamTls::Make(
    std::vector<std::shared_ptr<const DownstreamTlsChain>> chains) {
  std::shared_ptr<DownstreamTls> tls(new DownstreamTls());
  tls->chains_ = std::move(chains);
  tls->context_ = std::make_unique<ssl::context>(ssl::context::tls_server);
  SetProtocols(*tls->context_);
  SetSessionContext(*tls->context_);
  SSL_CTX* native = tls->context_->native_handle();
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_tlsext_servername_callback(native, SelectChainBySni);
  SSL_CTX_set_tlsext_servername_arg(native, tls.get());
  return tls;
}

const DownstreamTlsChain* DownstreamTls::Find(std::string_view sni) const {
  for (const auto& chain : chains_) {
    if (chain->Matches(sni)) return chain.get();
  }
  return nullptr;
}

absl::StatusOr<std::shared_ptr<const UpstreamTls>> BuildUpstreamTls(
    const std::string& where,
    const envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext& proto) {
  auto out = std::make_shared<UpstreamTls>();
  out->sni = proto.sni();
  out->context = std::make_shared<ssl::context>(ssl::context::tls_client);
  ssl::context& ctx = *out->context;
  SetProtocols(ctx);
  const std::string common_where = where + kTlsCommon;
  const CommonTlsContext& common = proto.common_tls_context();
  if (common.has_validation_context()) {
    const std::string vwhere = common_where + ".validation_context";
    const auto& validation = common.validation_context();
    auto ca_file = FileOf(vwhere + ".trusted_ca", validation.trusted_ca());
    if (!ca_file.ok()) return ca_file.status();
    out->ca_file = *ca_file;
    if (absl::Status s = UseTrustedCa(vwhere + ".trusted_ca.filename", out->ca_file, ctx);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = ReadSanMatchers(vwhere, validation, *out); !s.ok()) return s;
    ctx.set_verify_mode(ssl::verify_peer);
  } else {
    // As Envoy: without a validation context nothing is verified.
    spdlog::warn("{}: no validation_context, the upstream's certificate is not verified", where);
    ctx.set_verify_mode(ssl::verify_none);
  }
  if (absl::Status s = UseCertificate(common_where, common, ctx); !s.ok()) return s;
  if (absl::Status s = UseAlpn(common_where, common, ctx, /*server=*/false); !s.ok()) return s;
  std::string cert_file;
  if (common.tls_certificates_size() > 0) {
    cert_file = common.tls_certificates(0).certificate_chain().filename();
  }
  out->pool_prefix = absl::StrCat("tls:", out->sni, ":", out->ca_file, ":", cert_file, ":",
                                  absl::StrJoin(out->san_exact, ","), "@");
  return std::shared_ptr<const UpstreamTls>(std::move(out));
}

absl::StatusOr<std::shared_ptr<ServerCertificates>> ServerCertificates::Load(
    const std::string& where, Files files) {
  std::shared_ptr<ServerCertificates> certs(new ServerCertificates(where, std::move(files)));
  certs->loaded_ = certs->Signature();
  auto built = certs->Build();
  if (!built.ok()) return built.status();
  certs->context_ = *std::move(built);
  certs->next_check_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  return certs;
}

std::string ServerCertificates::Signature() const {
  std::string sig;
  for (const std::string* path : {&files_.cert, &files_.key, &files_.client_ca}) {
    if (path->empty()) continue;
    struct stat st {};
    if (stat(path->c_str(), &st) != 0) return "";
    absl::StrAppend(&sig, st.st_dev, ":", st.st_ino, ":", st.st_size, ":", st.st_mtim.tv_sec, ".",
                    st.st_mtim.tv_nsec, ";");
  }
  return sig;
}

absl::StatusOr<std::shared_ptr<ssl::context>> ServerCertificates::Build() const {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SetProtocols(*ctx);
  // Idle keep-alive connections give their TLS buffers back between records.
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  SetSessionContext(*ctx);
  CommonTlsContext common;
  auto* cert = common.add_tls_certificates();
  cert->mutable_certificate_chain()->set_filename(files_.cert);
  cert->mutable_private_key()->set_filename(files_.key);
  for (const std::string& p : files_.alpn) common.add_alpn_protocols(p);
  const std::string common_where = where_ + kTlsCommon;
  if (absl::Status s = UseCertificate(common_where, common, *ctx); !s.ok()) return s;
  if (absl::Status s = UseAlpn(common_where, common, *ctx, /*server=*/true); !s.ok()) return s;
  if (!files_.client_ca.empty()) {
    const std::string ca_where = common_where + ".validation_context.trusted_ca.filename";
    if (absl::Status s = UseTrustedCa(ca_where, files_.client_ca, *ctx); !s.ok()) return s;
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files_.client_ca.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    ctx->set_verify_mode(files_.require_client_certificate
                             ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                             : ssl::verify_peer);
  }
  return ctx;
}

std::shared_ptr<ssl::context> ServerCertificates::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return context_;
  next_check_ = now + std::chrono::seconds(1);
  std::string sig = Signature();
  if (sig == loaded_ || sig == rejected_ || sig.empty()) return context_;
  auto built = Build();
  if (!built.ok()) {
    spdlog::warn("TLS certificate files changed but do not load (keeping the previous ones): {}",
                 std::string(built.status().message()));
    rejected_ = sig;
    return context_;
  }
  // Files that changed again while they were read get another look next time.
  if (Signature() == sig) loaded_ = sig;
  rejected_.clear();
  context_ = *std::move(built);
  spdlog::info("TLS certificate reloaded from {}", files_.cert);
  return context_;
}

bool DownstreamTlsChain::Matches(std::string_view sni) const {
  if (server_names.empty()) return true;
  std::string name = absl::AsciiStrToLower(std::string(sni));
  for (const std::string& n : server_names) {
    if (n == name) return true;
    // "*.example.com" covers "a.example.com", not "example.com" nor "a.b.example.com".
    if (absl::StartsWith(n, "*.") && absl::EndsWith(name, n.substr(1))) {
      std::string_view label(name.data(), name.size() + 1 - n.size());
      if (!label.empty() && label.find('.') == std::string_view::npos) return true;
    }
  }
  return false;
}

absl::StatusOr<std::shared_ptr<const DownstreamTlsChain>> BuildDownstreamTlsChain(
    const std::string& where, const std::vector<std::string>& server_names,
    const envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext& proto) {
  auto chain = std::make_shared<DownstreamTlsChain>();
  for (const std::string& n : server_names) chain->server_names.push_back(absl::AsciiStrToLower(n));
  const CommonTlsContext& common = proto.common_tls_context();
  if (common.tls_certificates_size() != 1) {
    return TlsInvalid(where + kTlsCommon + std::string(".tls_certificates"),
                      "exactly one certificate is required");
  }
  ServerCertificates::Files files;
  files.cert = common.tls_certificates(0).certificate_chain().filename();
  files.key = common.tls_certificates(0).private_key().filename();
  files.alpn.assign(common.alpn_protocols().begin(), common.alpn_protocols().end());
  if (common.has_validation_context()) {
    auto ca_file = FileOf(where + kTlsCommon + std::string(".validation_context.trusted_ca"),
                          common.validation_context().trusted_ca());
    if (!ca_file.ok()) return ca_file.status();
    files.client_ca = *ca_file;
  }
  files.require_client_certificate =
      proto.has_require_client_certificate() && proto.require_client_certificate().value();
  if (files.require_client_certificate && files.client_ca.empty()) {
    return TlsInvalid(where + ".typed_config.require_client_certificate",
                      "needs common_tls_context.validation_context.trusted_ca");
  }
  auto certs = ServerCertificates::Load(where, std::move(files));
  if (!certs.ok()) return certs.status();
  chain->certificates = *std::move(certs);
  return std::shared_ptr<const DownstreamTlsChain>(std::move(chain));
}

}  // namespace causeway::proxy
