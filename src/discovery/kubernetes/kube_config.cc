#include "discovery/kubernetes/kube_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "common/status.h"
#include "common/strings.h"

namespace causeway::discovery {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(ToAbsl(StrCat("cannot read ", path)));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return base_dir + "/" + path;
}

// Reads "<field>-data" (base64) or "<field>" (a path relative to the
// kubeconfig's directory) from `node`.
absl::StatusOr<std::string> DataOrFile(const YAML::Node& node, const std::string& field,
                                       const std::string& base_dir) {
  if (node[field + "-data"]) {
    std::string decoded;
    if (!absl::Base64Unescape(node[field + "-data"].as<std::string>(), &decoded)) {
      return absl::InvalidArgumentError(
          ToAbsl(StrCat("kubeconfig: ", field, "-data is not base64")));
    }
    return decoded;
  }
  if (node[field]) return ReadFile(ResolvePath(base_dir, node[field].as<std::string>()));
  return std::string();
}

// The entry named `name` in a kubeconfig list (clusters, users, contexts).
YAML::Node Named(const YAML::Node& list, const std::string& name, const char* inner) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name) return item[inner];
  }
  return YAML::Node();
}

}  // namespace

absl::Status ParseServerUrl(std::string_view url, KubeConfig& config) {
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    config.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    config.tls = false;
    rest.remove_prefix(7);
  } else {
    return absl::InvalidArgumentError(
        ToAbsl(StrCat("Kubernetes server must be https://HOST[:PORT], got \"", url, "\"")));
  }
  rest = rest.substr(0, rest.find('/'));
  std::string_view host = rest;
  std::string port = config.tls ? "443" : "80";
  if (rest.starts_with("[")) {  // [v6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(ToAbsl(StrCat("bad server URL \"", url, "\"")));
    }
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || port.empty()) {
    return absl::InvalidArgumentError(ToAbsl(StrCat("bad server URL \"", url, "\"")));
  }
  config.host = std::string(host);
  config.port = port;
  return absl::OkStatus();
}

absl::StatusOr<KubeConfig> InClusterConfig(std::string_view service_account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr) {
    return absl::FailedPreconditionError(
        "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  }
  KubeConfig config;
  config.host = host;
  config.port = port;
  const std::string dir(service_account_dir);
  config.token_file = dir + "/token";
  CW_ASSIGN_OR_RETURN(config.token, ReadFile(config.token_file));
  CW_ASSIGN_OR_RETURN(config.ca_pem, ReadFile(dir + "/ca.crt"));
  return config;
}

absl::StatusOr<KubeConfig> KubeconfigFile(const std::string& path, const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(ToAbsl(StrCat("kubeconfig ", path, ": ", e.what())));
  }
  const std::string base_dir =
      path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  try {
    std::string ctx_name = context;
    if (ctx_name.empty() && root["current-context"]) {
      ctx_name = root["current-context"].as<std::string>();
    }
    const YAML::Node ctx = Named(root["contexts"], ctx_name, "context");
    if (!ctx) {
      return absl::InvalidArgumentError(
          ToAbsl(StrCat("kubeconfig ", path, ": no context \"", ctx_name, "\"")));
    }
    const std::string cluster_name = ctx["cluster"] ? ctx["cluster"].as<std::string>() : "";
    const std::string user_name = ctx["user"] ? ctx["user"].as<std::string>() : "";
    const YAML::Node cluster = Named(root["clusters"], cluster_name, "cluster");
    if (!cluster || !cluster["server"]) {
      return absl::InvalidArgumentError(
          ToAbsl(StrCat("kubeconfig ", path, ": cluster \"", cluster_name, "\" has no server")));
    }
    KubeConfig config;
    CW_RETURN_IF_ERROR(ParseServerUrl(cluster["server"].as<std::string>(), config));
    CW_ASSIGN_OR_RETURN(config.ca_pem, DataOrFile(cluster, "certificate-authority", base_dir));
    config.insecure_skip_verify =
        cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>();
    const YAML::Node user = Named(root["users"], user_name, "user");
    if (user) {
      if (user["exec"] || user["auth-provider"]) {
        return absl::UnimplementedError(ToAbsl(
            StrCat("kubeconfig ", path, ": user \"", user_name,
                   "\" uses an exec/auth-provider plugin; use a token or client certificate")));
      }
      if (user["token"]) config.token = user["token"].as<std::string>();
      if (user["tokenFile"]) {
        config.token_file = ResolvePath(base_dir, user["tokenFile"].as<std::string>());
        CW_ASSIGN_OR_RETURN(config.token, ReadFile(config.token_file));
      }
      CW_ASSIGN_OR_RETURN(config.client_cert_pem, DataOrFile(user, "client-certificate", base_dir));
      CW_ASSIGN_OR_RETURN(config.client_key_pem, DataOrFile(user, "client-key", base_dir));
    }
    return config;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(ToAbsl(StrCat("kubeconfig ", path, ": ", e.what())));
  }
}

absl::StatusOr<KubeConfig> LoadKubeConfig(const std::string& kubeconfig) {
  if (!kubeconfig.empty()) return KubeconfigFile(kubeconfig);
  if (std::getenv("KUBERNETES_SERVICE_HOST") != nullptr) return InClusterConfig();
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string first(env);
    first = first.substr(0, first.find(':'));
    return KubeconfigFile(first);
  }
  const char* home = std::getenv("HOME");
  return KubeconfigFile(StrCat(home != nullptr ? home : "", "/.kube/config"));
}

}  // namespace causeway::discovery
