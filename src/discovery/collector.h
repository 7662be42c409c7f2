// The Collector module boundary: a source of the clusters and instances that
// run in one zone (a file, DNS names, Kubernetes pods).
//
// A collector reports the *complete* current set of the clusters it knows
// about each time that set changes, never deltas: the consumer (the agent's
// sync) diffs against what the hub holds, so a lost or coalesced callback can
// never leave the hub wrong, and a collector that restarts its source (a
// relisted Kubernetes watch, a re-read file) needs no bookkeeping of what it
// said before.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/objects.h"

namespace causeway::discovery {

// Instances of one cluster, sorted and without duplicates (see Normalize), so
// that two sets compare equal exactly when they hold the same instances.
using Instances = std::vector<model::Instance>;

// Cluster name → instances.
using ClusterSet = std::map<std::string, Instances>;

// Sorts and removes duplicates.
void Normalize(Instances& instances);
void Normalize(ClusterSet& clusters);

struct Snapshot {
  ClusterSet clusters;
  // When the source event behind this set was observed (inotify event, DNS
  // answer, watch event): the start of the source-to-hub latency.
  std::chrono::steady_clock::time_point observed_at;
};

class Collector {
 public:
  using Callback = std::function<void(Snapshot)>;

  virtual ~Collector() = default;

  // The spec it was made from, for logs ("file:/etc/causeway/clusters.yaml").
  virtual std::string Describe() const = 0;

  // Begins collecting on the collector's own thread. `on_change` receives the
  // first complete set as soon as it is known, then every changed set. It is
  // never called concurrently with itself, nor after Stop() returns. Errors
  // of the source after Start (unreadable file, DNS timeout, API server gone)
  // are logged and retried; the last good set stays in force.
  virtual absl::Status Start(Callback on_change) = 0;

  // Stops the collector's thread. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace causeway::discovery
