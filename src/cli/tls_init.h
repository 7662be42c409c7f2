// `causeway tls init DIR`: a private CA and certificates signed by it, for
// trying TLS without a PKI (OpenSSL's EVP/X509 API, no openssl command).
//
//   ca.crt / ca.key          the CA (give ca.crt to clients: --ca, CAUSEWAY_CA)
//   hub.crt / hub.key        the hub's (--tls-cert, --tls-key); its subject
//                            alternative names are the --name values, IP
//                            addresses as IP SANs, the rest as DNS names
//   client.crt / client.key  a client certificate (for xDS with --client-ca)
//
// Keys are ECDSA P-256, written mode 0600. Existing files are left alone
// unless `force`.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace causeway::cli {

struct TlsInitOptions {
  std::string dir;
  std::vector<std::string> names;  // at least one
  std::string client_name = "causeway-client";
  int days = 365;  // validity of hub.crt and client.crt; the CA gets ten years
  bool force = false;
};

// The paths written, in the order above.
absl::StatusOr<std::vector<std::string>> WriteTlsFiles(const TlsInitOptions& options);

}  // namespace causeway::cli
