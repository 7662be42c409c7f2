// From a Pod object (JSON as the API server sends it) to the cluster it
// belongs to and, when it should receive traffic, its instance.
#pragma once

#include <optional>
#include <string>

#include "model/objects.h"

namespace causeway::discovery {

struct PodOptions {
  std::string cluster_label = "causeway.io/cluster";
  std::string port_name = "http";
};

struct PodEntry {
  std::string cluster;  // from the cluster label
  // Set only for a pod that is Running, Ready and not terminating, with an
  // address and the named port. Its host is the pod IP, or the node's
  // address (status.hostIP) for a hostNetwork pod; its metadata is the pod's
  // other labels plus "node_name" and "host_ip".
  std::optional<model::Instance> instance;
};

// nullopt when the pod has no (valid) cluster label: it is not ours. A pod
// that has one but is not ready still names its cluster, so a cluster whose
// pods are all unready is reported with no instances rather than vanishing
// (which would leave its last instances on the hub).
std::optional<PodEntry> PodToEntry(const model::Json& pod, const PodOptions& options);

}  // namespace causeway::discovery
