#include "discovery/agent/collector_spec.h"

#include "CLI/CLI.hpp"
#include "common/strings.h"
#include "discovery/collectors/dns_collector.h"
#include "discovery/collectors/file_collector.h"
#include "discovery/kubernetes/kube_config.h"
#include "discovery/kubernetes/kubernetes_collector.h"

namespace causeway::discovery {

absl::StatusOr<std::unique_ptr<Collector>> MakeCollector(std::string_view spec,
                                                         const CollectorEnvironment& env) {
  const size_t colon = spec.find(':');
  const std::string_view kind = spec.substr(0, colon);
  const std::string_view rest = colon == std::string_view::npos ? "" : spec.substr(colon + 1);
  if (kind == "file") {
    if (rest.empty()) return absl::InvalidArgumentError("file collector: expected file:PATH");
    return std::make_unique<FileCollector>(std::string(rest));
  }
  if (kind == "dns") {
    auto target = ParseDnsTarget(rest);
    if (!target.ok()) return target.status();
    DnsCollector::Options options;
    options.server = env.dns_server;
    return std::make_unique<DnsCollector>(*std::move(target), options);
  }
  if (kind == "kubernetes") {
    auto parsed = ParseKubernetesSpec(rest);
    if (!parsed.ok()) return parsed.status();
    auto config = LoadKubeConfig(env.kubeconfig);
    if (!config.ok()) return config.status();
    KubernetesCollector::Options options;
    options.config = *std::move(config);
    return std::make_unique<KubernetesCollector>(*std::move(parsed), std::move(options),
                                                 std::string(spec));
  }
  return absl::InvalidArgumentError(
      ToAbsl(StrCat("unknown collector \"", spec,
                    "\" (file:PATH, dns:CLUSTER=HOST:PORT, dns:CLUSTER=_svc._tcp.DOMAIN, "
                    "kubernetes:namespace=NS;selector=SEL;cluster-label=L;port-name=P)")));
}

void AddCollectorEnvironmentFlags(CLI::App& cmd, CollectorEnvironment& env) {
  cmd.add_option("--dns-server", env.dns_server,
                 "IPv4:PORT of the DNS server for dns: collectors (default: /etc/resolv.conf)");
  cmd.add_option("--kubeconfig", env.kubeconfig,
                 "kubeconfig for kubernetes: collectors (default: in-cluster, $KUBECONFIG, "
                 "~/.kube/config)");
}

}  // namespace causeway::discovery
