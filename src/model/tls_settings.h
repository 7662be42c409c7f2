// TLS and HTTP protocol settings of clusters (the proxy as a TLS client of
// the cluster's instances) and of domains (the proxy terminating TLS for the
// domain's clients). Every file named here is a path on the proxy's machine,
// read by the proxy, never by the hub: the hub only checks that it is
// absolute, since a relative path would depend on the proxy's working
// directory.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace causeway::model {

// How the proxy speaks HTTP to a cluster's instances.
enum class ClusterProtocol {
  kHttp1,  // the default; the canonical spec leaves it out
  kHttp2,  // HTTP/2 only (prior knowledge, or over TLS)
  kAuto,   // chosen per connection by ALPN, so it needs TLS
};

// "http1", "http2" or "auto".
std::string_view ProtocolName(ClusterProtocol protocol);

// Cluster `tls`: every field optional. Without ca_file the proxy trusts the
// system's CA bundle; with sni the peer's certificate must name it.
struct UpstreamTls {
  std::string sni;
  std::string ca_file;
  std::string cert_file;  // a client certificate; key_file goes with it
  std::string key_file;
  auto operator<=>(const UpstreamTls&) const = default;
};

// Domain `tls`: the certificate the proxy presents for the domain (required)
// and, optionally, the CA its clients' certificates must chain to (then a
// client certificate is required).
struct DownstreamTls {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  auto operator<=>(const DownstreamTls&) const = default;
};

// Parse the JSON value of the field `path` ("protocol", "tls"). Wrong types,
// unknown fields, relative paths and a certificate without its key (or the
// reverse) are InvalidArgument naming the sub-field and the value, e.g.
// `tls.ca_file: must be an absolute path, not "ca.pem"`.
absl::Status ParseClusterProtocol(const nlohmann::json& j, std::string_view path,
                                  ClusterProtocol* out);
absl::Status ParseUpstreamTls(const nlohmann::json& j, std::string_view path, UpstreamTls* out);
absl::Status ParseDownstreamTls(const nlohmann::json& j, std::string_view path, DownstreamTls* out);

// Canonical JSON: only the fields that are set.
nlohmann::json ToJson(const UpstreamTls& v);
nlohmann::json ToJson(const DownstreamTls& v);

}  // namespace causeway::model
