#include "discovery/agent/agent.h"

#include "common/strings.h"
#include "model/objects.h"
#include "spdlog/spdlog.h"

namespace causeway::discovery {

Agent::Agent(AgentOptions options) : options_(std::move(options)) {}

Agent::~Agent() { Stop(); }

absl::StatusOr<std::unique_ptr<Agent>> Agent::Create(AgentOptions options) {
  if (options.hub.empty()) return absl::InvalidArgumentError("--hub is required");
  if (!model::IsValidName(options.sync.zone)) {
    return absl::InvalidArgumentError(
        ToAbsl(StrCat("--zone: \"", options.sync.zone, "\" is not a valid zone name")));
  }
  if (options.collectors.empty()) {
    return absl::InvalidArgumentError("at least one --collector is required");
  }
  std::unique_ptr<Agent> agent(new Agent(std::move(options)));
  for (const std::string& spec : agent->options_.collectors) {
    auto collector = MakeCollector(spec, agent->options_.environment);
    if (!collector.ok()) return collector.status();
    agent->collectors_.Add(*std::move(collector));
  }
  agent->api_ = std::make_unique<RestHubApi>(agent->options_.hub, agent->options_.token,
                                             agent->options_.sync.zone);
  agent->syncer_ = std::make_unique<Syncer>(agent->api_.get(), agent->options_.sync);
  return agent;
}

absl::Status Agent::Start() {
  spdlog::info("discovery: agent for zone {} syncing to {} from {} collector(s){}",
               options_.sync.zone, options_.hub, collectors_.size(),
               options_.sync.delete_missing ? ", deleting missing clusters" : "");
  syncer_->Start();
  started_ = true;
  absl::Status status = collectors_.Start(
      [this](ClusterSet clusters, std::chrono::steady_clock::time_point observed_at,
             bool complete) { syncer_->SetDesired(std::move(clusters), observed_at, complete); });
  if (!status.ok()) Stop();
  return status;
}

void Agent::Stop() {
  if (!started_) return;
  started_ = false;
  collectors_.Stop();  // no more callbacks into the syncer after this
  syncer_->Stop();
}

}  // namespace causeway::discovery
