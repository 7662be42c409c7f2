#include "cli/proxy_token_hint.h"

#include "common/strings.h"

namespace causeway::cli {

std::string ProxyTokenHint(std::string_view secret, std::string_view zone) {
  return StrCat(
      "\ncauseway-proxy: put in its environment (HUB is the hub's xDS address)\n"
      "  CAUSEWAY_XDS=HUB:50000\n"
      "  CAUSEWAY_ZONE=",
      zone,
      "\n"
      "  CAUSEWAY_XDS_TOKEN=",
      secret,
      "\n"
      "  CAUSEWAY_XDS_TLS=1             # when the hub serves TLS (--tls-cert)\n"
      "  CAUSEWAY_XDS_CA=/path/ca.crt   # when its certificate is from a private CA\n"
      "\nEnvoy: in the bootstrap's dynamic_resources (node.locality.zone: ",
      zone,
      ")\n"
      "  ads_config:\n"
      "    api_type: GRPC\n"
      "    transport_api_version: V3\n"
      "    grpc_services:\n"
      "    - envoy_grpc: {cluster_name: causeway_xds}\n"
      "      initial_metadata:\n"
      "      - key: authorization\n"
      "        value: \"Bearer ",
      secret, "\"\n");
}

}  // namespace causeway::cli
