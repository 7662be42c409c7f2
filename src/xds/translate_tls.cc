// TLS and HTTP protocol fields: a cluster's upstream TLS context and
// protocol options, a listener's TLS filter chains (one per TLS domain,
// chosen by SNI). A cluster or listener without TLS gets none of these
// fields, so its bytes are the same as before TLS existed.
#include <algorithm>
#include <string>
#include <vector>

#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "xds/translate_internal.h"

namespace causeway::xds::internal {
namespace {

namespace tls_v3 = envoy::extensions::transport_sockets::tls::v3;
using envoy::config::cluster::v3::Cluster;
using envoy::config::listener::v3::FilterChain;
using envoy::config::listener::v3::Listener;
using envoy::extensions::upstreams::http::v3::HttpProtocolOptions;

constexpr char kTlsTransportSocket[] = "envoy.transport_sockets.tls";
constexpr char kTlsInspector[] = "envoy.filters.listener.tls_inspector";
constexpr char kHttpProtocolOptions[] = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
// Envoy verifies a peer only against a validation context; a cluster without
// a CA of its own is verified against Debian's system bundle, as a browser
// or curl would.
constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

void AddCertificate(const std::string& cert_file, const std::string& key_file,
                    tls_v3::CommonTlsContext* context) {
  auto* certificate = context->add_tls_certificates();
  certificate->mutable_certificate_chain()->set_filename(cert_file);
  certificate->mutable_private_key()->set_filename(key_file);
}

tls_v3::UpstreamTlsContext UpstreamContext(const model::Cluster& cluster) {
  const model::UpstreamTls& settings = *cluster.tls;
  tls_v3::UpstreamTlsContext context;
  if (!settings.sni.empty()) context.set_sni(settings.sni);
  tls_v3::CommonTlsContext* common = context.mutable_common_tls_context();
  auto* validation = common->mutable_validation_context();
  validation->mutable_trusted_ca()->set_filename(settings.ca_file.empty() ? kSystemCaBundle
                                                                          : settings.ca_file);
  // Without a name to match, any certificate from a trusted CA would do.
  if (!settings.sni.empty()) {
    auto* san = validation->add_match_typed_subject_alt_names();
    san->set_san_type(tls_v3::SubjectAltNameMatcher::DNS);
    san->mutable_matcher()->set_exact(settings.sni);
  }
  if (!settings.cert_file.empty()) {
    AddCertificate(settings.cert_file, settings.key_file, common);
  }
  if (cluster.protocol == model::ClusterProtocol::kAuto) {
    common->add_alpn_protocols("h2");
    common->add_alpn_protocols("http/1.1");
  }
  return context;
}

// The names a client may send in SNI for `domain`: its host and the aliases
// SNI can express (a "prefix.*" alias matches any suffix, which server_names
// cannot say). Without repeats: Envoy refuses a name listed twice.
std::vector<std::string> ServerNames(const model::Domain& domain) {
  std::vector<std::string> names = {domain.host};
  for (const std::string& alias : domain.aliases) {
    if (alias.ends_with(".*")) continue;
    if (std::find(names.begin(), names.end(), alias) == names.end()) names.push_back(alias);
  }
  return names;
}

FilterChain TlsChain(const model::Domain& domain, const FilterChain& plain) {
  const model::DownstreamTls& settings = *domain.tls;
  FilterChain chain;
  auto* match = chain.mutable_filter_chain_match();
  for (const std::string& name : ServerNames(domain)) match->add_server_names(name);
  match->set_transport_protocol("tls");
  tls_v3::DownstreamTlsContext context;
  tls_v3::CommonTlsContext* common = context.mutable_common_tls_context();
  AddCertificate(settings.cert_file, settings.key_file, common);
  if (!settings.client_ca_file.empty()) {
    common->mutable_validation_context()->mutable_trusted_ca()->set_filename(
        settings.client_ca_file);
    context.mutable_require_client_certificate()->set_value(true);
  }
  // The proxy serves HTTP/2 and HTTP/1.1 to its clients; h2 first, so a
  // client offering both (curl, browsers, gRPC) multiplexes.
  common->add_alpn_protocols("h2");
  common->add_alpn_protocols("http/1.1");
  auto* socket = chain.mutable_transport_socket();
  socket->set_name(kTlsTransportSocket);
  *socket->mutable_typed_config() = PackDeterministic(context);
  *chain.mutable_filters() = plain.filters();
  return chain;
}

}  // namespace

void AddUpstreamTls(const model::Cluster& cluster, Cluster* out) {
  if (!cluster.tls) return;
  auto* socket = out->mutable_transport_socket();
  socket->set_name(kTlsTransportSocket);
  *socket->mutable_typed_config() = PackDeterministic(UpstreamContext(cluster));
}

void AddProtocolOptions(const model::Cluster& cluster, Cluster* out) {
  HttpProtocolOptions options;
  switch (cluster.protocol) {
    case model::ClusterProtocol::kHttp1:
      return;  // Envoy's default: no options at all
    case model::ClusterProtocol::kHttp2:
      options.mutable_explicit_http_config()->mutable_http2_protocol_options();
      break;
    case model::ClusterProtocol::kAuto:
      options.mutable_auto_config()->mutable_http_protocol_options();
      options.mutable_auto_config()->mutable_http2_protocol_options();
      break;
  }
  (*out->mutable_typed_extension_protocol_options())[kHttpProtocolOptions] =
      PackDeterministic(options);
}

void AddDownstreamTls(const std::vector<const model::Domain*>& domains, Listener* listener) {
  std::vector<FilterChain> chains;
  const FilterChain plain = listener->filter_chains(0);
  for (const model::Domain* domain : domains) {  // sorted by name
    if (domain->tls) chains.push_back(TlsChain(*domain, plain));
  }
  if (chains.empty()) return;
  auto* inspector = listener->add_listener_filters();
  inspector->set_name(kTlsInspector);
  *inspector->mutable_typed_config() =
      PackDeterministic(envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector());
  // The plain chain goes last and matches everything the TLS chains do not:
  // clear-text clients, and TLS clients naming no TLS domain. A port whose
  // domains all have tls gets none: a domain that requires TLS (and perhaps
  // a client certificate) must not be reachable in clear text by its Host
  // header. On a port mixing both, the plain chain still routes every
  // domain of the port (one route configuration per port), so a domain
  // that must only be reached over TLS needs a port of TLS domains.
  listener->clear_filter_chains();
  const bool all_tls = chains.size() == domains.size();
  for (FilterChain& chain : chains) *listener->add_filter_chains() = std::move(chain);
  if (!all_tls) *listener->add_filter_chains() = plain;
}

}  // namespace causeway::xds::internal
