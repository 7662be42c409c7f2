// Where the Kubernetes API server is and how to authenticate to it: in-cluster
// (service-account token and CA) or from a kubeconfig file.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace causeway::discovery {

struct KubeConfig {
  bool tls = true;  // "https://..."; plain "http://..." is for tests and proxies
  std::string host;
  std::string port;
  std::string ca_pem;  // trusted CAs; empty = the system's
  bool insecure_skip_verify = false;
  std::string token;       // bearer token
  std::string token_file;  // re-read on every connection (bound tokens rotate)
  std::string client_cert_pem;
  std::string client_key_pem;
};

// The in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT and the files
// of `service_account_dir` (token, ca.crt).
absl::StatusOr<KubeConfig> InClusterConfig(
    std::string_view service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// The current context (or `context`) of a kubeconfig file: server,
// certificate-authority(-data), insecure-skip-tls-verify, token, tokenFile,
// client-certificate(-data), client-key(-data). Exec and auth-provider
// plugins are not supported.
absl::StatusOr<KubeConfig> KubeconfigFile(const std::string& path, const std::string& context = "");

// `kubeconfig` when given; else in-cluster when KUBERNETES_SERVICE_HOST is
// set; else $KUBECONFIG (its first file); else ~/.kube/config.
absl::StatusOr<KubeConfig> LoadKubeConfig(const std::string& kubeconfig);

// Splits "https://host:port" into the fields of `config`.
absl::Status ParseServerUrl(std::string_view url, KubeConfig& config);

}  // namespace causeway::discovery
