// `causeway intercept` running in the background against a CliHub: its
// combined stdout and stderr, the intercept as the hub has it, and the
// signals that end it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli_fixture.h"
#include "support/process.h"

namespace causeway::testing {

// The zone the intercept tests use: staging with the cluster color.
inline constexpr char kInterceptCommandZoneYaml[] = R"(kind: Zone
name: staging
---
kind: Cluster
zone: staging
name: color
instances:
  - {host: 127.0.0.1, port: 8080}
)";

// Creates a token with `role` (and `zone`, when given) and returns its secret.
std::string CreateInterceptToken(const CliHub& hub, const std::string& name,
                                 const std::string& role, const std::string& zone = "");

// The intercept `name` of zone staging as `causeway get` prints it with the
// hub's admin token; null when the hub has none.
Json GetStagingIntercept(const CliHub& hub, const std::string& name);

class InterceptCommand {
 public:
  // Starts `causeway intercept ARGS…` with HOME and CAUSEWAY_HUB of `hub`,
  // CAUSEWAY_TOKEN = `token`, plus `env`.
  InterceptCommand(const CliHub& hub, const std::string& token,
                   const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env = {});

  // What the command printed so far (stdout and stderr together).
  std::string Output() const;
  // Waits (within a generous deadline) until the output contains `text`.
  bool WaitForOutput(const std::string& text) const;
  bool Running() { return process_->Running(); }
  // Sends `signal` and waits for the exit; the exit code, or -1.
  int Signal(int signal);
  // Waits for the command to end by itself; the exit code, or -1.
  int Wait();

 private:
  std::string log_path_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace causeway::testing
