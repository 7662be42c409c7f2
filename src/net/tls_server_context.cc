#include "net/tls_server_context.h"

#include <openssl/ssl.h>
#include <sys/stat.h>

#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace causeway::http {

namespace ssl = boost::asio::ssl;

absl::StatusOr<std::shared_ptr<TlsServerContext>> TlsServerContext::Load(
    std::string cert_file, std::string key_file, std::chrono::milliseconds check_interval) {
  std::shared_ptr<TlsServerContext> tls(
      new TlsServerContext(std::move(cert_file), std::move(key_file), check_interval));
  // Signed before the build: files replaced meanwhile are loaded at the next check.
  Signature signature = tls->Stat();
  auto built = tls->Build();
  if (!built.ok()) return built.status();
  {
    // Not shared yet; locked so that every write of these fields is.
    absl::MutexLock lock(&tls->mu_);
    tls->loaded_ = std::move(signature);
    tls->context_ = *std::move(built);
    tls->next_check_ = std::chrono::steady_clock::now() + check_interval;
  }
  return tls;
}

TlsServerContext::TlsServerContext(std::string cert_file, std::string key_file,
                                   std::chrono::milliseconds check_interval)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      check_interval_(check_interval) {}

TlsServerContext::Signature TlsServerContext::Stat() const {
  Signature sig;
  for (const std::string* path : {&cert_file_, &key_file_}) {
    struct stat st {};
    if (stat(path->c_str(), &st) != 0) return Signature{};
    sig.text += StrCat(st.st_dev, ":", st.st_ino, ":", st.st_size, ":", st.st_mtim.tv_sec, ".",
                       st.st_mtim.tv_nsec, ";");
  }
  return sig;
}

absl::StatusOr<std::shared_ptr<ssl::context>> TlsServerContext::Build() const {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 and later only.
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  // Idle connections (watch streams by the thousand) give their read and
  // write buffers back between records.
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_file_, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        StrCat("--tls-cert ", cert_file_, ": cannot load a PEM certificate chain: ", ec.message()));
  }
  ctx->use_private_key_file(key_file_, ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        StrCat("--tls-key ", key_file_, ": cannot load a PEM private key: ", ec.message()));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return absl::InvalidArgumentError(StrCat(
        "--tls-key ", key_file_, " does not match the certificate in --tls-cert ", cert_file_));
  }
  return ctx;
}

std::shared_ptr<ssl::context> TlsServerContext::Current() {
  absl::MutexLock lock(&mu_);
  auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return context_;
  next_check_ = now + check_interval_;
  Signature sig = Stat();
  if (sig == loaded_ || sig == rejected_ || sig.text.empty()) return context_;
  auto built = Build();
  if (!built.ok()) {
    // Often one file of the pair is replaced before the other: wait for both.
    spdlog::warn("TLS certificate files changed but do not load (keeping the previous ones): {}",
                 std::string(built.status().message()));
    rejected_ = sig;
    return context_;
  }
  // Files that changed again while they were read get another look next time.
  if (Stat() == sig) loaded_ = sig;
  rejected_ = Signature{};
  context_ = *std::move(built);
  spdlog::info("TLS certificate reloaded from {}", cert_file_);
  return context_;
}

}  // namespace causeway::http
