// The credentials of the xDS server: plain, or TLS from PEM files that are
// re-read while the server runs.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class ServerCredentials;
}

namespace causeway::xds {

struct ServerTlsFiles {
  std::string cert;       // PEM certificate chain; "" = no TLS
  std::string key;        // PEM private key of the chain's first certificate
  std::string client_ca;  // PEM CA bundle; when set, clients must present a certificate it signed
  bool enabled() const { return !cert.empty() || !key.empty() || !client_ca.empty(); }
};

// Insecure credentials when `files` is empty. Otherwise checks that the
// files are readable, hold PEM of the right kind and that the key belongs to
// the certificate (InvalidArgument naming the flag and file), then returns
// gRPC's TLS credentials over a certificate provider that reads the files
// again every `refresh`: a replaced certificate serves new connections while
// established streams keep theirs.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsFiles& files, std::chrono::seconds refresh);

}  // namespace causeway::xds
