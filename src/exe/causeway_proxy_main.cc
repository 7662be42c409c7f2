// causeway-proxy: the sidecar / front proxy. See src/proxy/app/proxy_app.h.
#include "CLI/CLI.hpp"
#include "proxy/app/proxy_app.h"

int main(int argc, char** argv) {
  CLI::App app{
      "causeway-proxy: the causeway data plane, an HTTP/1.1 sidecar or front proxy configured over "
      "Envoy v3 xDS by the hub (or by a static file of causeway objects).\n\n"
      "Examples:\n"
      "  causeway-proxy --xds 127.0.0.1:50000 --proxy dev-proxy --zone dev-local\n"
      "  CAUSEWAY_XDS=hub:50000 CAUSEWAY_PROXY=dev-proxy CAUSEWAY_ZONE=dev-local causeway-proxy\n"
      "  causeway-proxy --config zone.yaml --proxy dev-proxy\n",
      "causeway-proxy"};
  causeway::proxy::ProxyAppOptions options;
  causeway::proxy::AddProxyFlags(app, &options);
  CLI11_PARSE(app, argc, argv);
  return causeway::proxy::RunProxy(options);
}
