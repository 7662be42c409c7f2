// Building collectors from `--collector` specs (src/discovery/README.md, Collectors):
//   file:PATH
//   dns:CLUSTER=HOST:PORT | dns:CLUSTER=_svc._tcp.DOMAIN
//   kubernetes:namespace=NS[,NS…];selector=SEL;cluster-label=L;port-name=P
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "discovery/collector.h"

namespace CLI {
class App;
}  // namespace CLI

namespace causeway::discovery {

// The --collector syntax, for help texts.
inline constexpr char kCollectorSyntax[] =
    "file:PATH | dns:CLUSTER=HOST:PORT | dns:CLUSTER=_svc._tcp.DOMAIN | "
    "kubernetes:namespace=NS[,NS...];selector=SEL;cluster-label=L;port-name=P";

// Settings shared by every collector of a process (flags of the agent and of
// `serve --collector`).
struct CollectorEnvironment {
  std::string dns_server;  // "IP:PORT" instead of /etc/resolv.conf's servers
  std::string kubeconfig;  // path; "" = in-cluster, $KUBECONFIG or ~/.kube/config
};

// Adds --dns-server and --kubeconfig to `cmd` (the agent and `serve`).
void AddCollectorEnvironmentFlags(CLI::App& cmd, CollectorEnvironment& env);

absl::StatusOr<std::unique_ptr<Collector>> MakeCollector(std::string_view spec,
                                                         const CollectorEnvironment& env);

}  // namespace causeway::discovery
