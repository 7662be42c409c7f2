// TLS of the proxy's connections, built from Envoy's tls.v3 messages:
// UpstreamTlsContext on a cluster (the proxy originates TLS to its
// endpoints) and DownstreamTlsContext on a listener's filter chains (the
// proxy terminates TLS for the chain's server_names). The files they name
// are read when the configuration is built, so a file that cannot be read
// or parsed NACKs the update (naming the file and the field) and the last
// good configuration stays.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "proxy/config/tls_stream.h"

namespace causeway::proxy {

struct UpstreamTls {
  std::string sni;      // sent as SNI; else the endpoint's host name, if it is one
  std::string ca_file;  // trusted_ca; "" means the peer is not verified (as Envoy)
  // match_typed_subject_alt_names, DNS exact: the peer's certificate must
  // name one of these.
  std::vector<std::string> san_exact;
  // Prefix of the pool's key for connections with these settings, so that
  // a TLS and a clear-text cluster with the same endpoint never share one,
  // and configuration updates with the same settings keep the idle ones.
  std::string pool_prefix;
  std::shared_ptr<boost::asio::ssl::context> context;
};

// `where` names the field in errors ("cluster 'api': transport_socket").
absl::StatusOr<std::shared_ptr<const UpstreamTls>> BuildUpstreamTls(
    const std::string& where,
    const envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext& proto);

// A certificate and key (and the CA that client certificates must chain
// to), re-read when the files change: Current() looks at the files' inode,
// size and modification time at most once a second and, when they changed
// and load, builds a new context; new handshakes get it, connections already
// open keep theirs. A change that does not load (one file of the pair
// replaced before the other) keeps the previous one and is looked at again
// when the files change once more.
class ServerCertificates {
 public:
  struct Files {
    std::string cert, key, client_ca;  // client_ca "" : no client certificate asked
    bool require_client_certificate = false;
    std::vector<std::string> alpn;
  };
  // `where` names the fields in errors.
  static absl::StatusOr<std::shared_ptr<ServerCertificates>> Load(const std::string& where,
                                                                  Files files);
  std::shared_ptr<boost::asio::ssl::context> Current();
  const Files& files() const { return files_; }

 private:
  explicit ServerCertificates(std::string where, Files files)
      : where_(std::move(where)), files_(std::move(files)) {}
  std::string Signature() const;
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> Build() const;

  const std::string where_;
  const Files files_;
  std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::string loaded_, rejected_;
  std::chrono::steady_clock::time_point next_check_;
};

// One filter chain with a DownstreamTlsContext: the names it serves
// (filter_chain_match.server_names, lower-case; "*.example.com" covers one
// more label) and its certificates.
struct DownstreamTlsChain {
  std::vector<std::string> server_names;  // empty: any name
  std::shared_ptr<ServerCertificates> certificates;
  bool Matches(std::string_view sni) const;
};

// A listener's TLS: the context every handshake starts with. Its
// servername callback picks the first chain whose server_names match the
// ClientHello's SNI and switches the handshake to that chain's current
// certificates (and client verification); no chain matches → the
// handshake is refused (unrecognized_name).
class DownstreamTls {
 public:
  static absl::StatusOr<std::shared_ptr<DownstreamTls>> Make(
      std::vector<std::shared_ptr<const DownstreamTlsChain>> chains);
  boost::asio::ssl::context& context() const { return *context_; }
  // The chain for `sni` ("" without SNI), or nullptr.
  const DownstreamTlsChain* Find(std::string_view sni) const;

 private:
  DownstreamTls() = default;
  std::vector<std::shared_ptr<const DownstreamTlsChain>> chains_;
  std::unique_ptr<boost::asio::ssl::context> context_;
};

absl::StatusOr<std::shared_ptr<const DownstreamTlsChain>> BuildDownstreamTlsChain(
    const std::string& where, const std::vector<std::string>& server_names,
    const envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext& proto);

}  // namespace causeway::proxy
