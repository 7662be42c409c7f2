#include "discovery/collector.h"

#include <algorithm>

namespace causeway::discovery {

void Normalize(Instances& instances) {
  std::sort(instances.begin(), instances.end());
  instances.erase(std::unique(instances.begin(), instances.end()), instances.end());
}

void Normalize(ClusterSet& clusters) {
  for (auto& [name, instances] : clusters) Normalize(instances);
}

}  // namespace causeway::discovery
