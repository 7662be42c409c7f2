// The zone agent: collectors → Syncer → the hub's REST API.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "discovery/agent/collector_spec.h"
#include "discovery/collector_group.h"
#include "discovery/sync/rest_hub_api.h"
#include "discovery/sync/syncer.h"

namespace causeway::discovery {

struct AgentOptions {
  std::string hub;    // base URL of the hub's REST API
  std::string token;  // an agent token limited to `sync.zone`
  std::vector<std::string> collectors;
  CollectorEnvironment environment;
  SyncOptions sync;  // zone, delete_missing, batching
};

class Agent {
 public:
  // Validates the options and builds the collectors (nothing runs yet).
  static absl::StatusOr<std::unique_ptr<Agent>> Create(AgentOptions options);
  ~Agent();

  absl::Status Start();
  void Stop();

  const Syncer& syncer() const { return *syncer_; }

 private:
  explicit Agent(AgentOptions options);

  AgentOptions options_;
  std::unique_ptr<RestHubApi> api_;
  std::unique_ptr<Syncer> syncer_;
  CollectorGroup collectors_;
  bool started_ = false;
};

}  // namespace causeway::discovery
