// Runs a real hub (`causeway serve`) in a temporary home directory and the
// real `causeway` CLI against it, capturing stdout, stderr and exit codes.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "support/process.h"

namespace causeway::testing {

using Json = nlohmann::json;

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A hub whose data directory is the default one under a temporary $HOME, so
// the CLI finds its admin.token the way it would on a developer's laptop.
class CliHub {
 public:
  CliHub();
  ~CliHub();
  CliHub(const CliHub&) = delete;
  CliHub& operator=(const CliHub&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& home() const { return home_.path(); }
  std::string File(const std::string& name) const { return home_.File(name); }
  // Writes `text` to a file under home and returns its path.
  std::string WriteFile(const std::string& name, const std::string& text) const;

  // Runs `causeway ARGS…` with HOME set to this hub's home and
  // CAUSEWAY_HUB to its URL (no token: the CLI uses admin.token), plus `env`.
  CliResult Run(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {},
                const std::string& stdin_text = "") const;
  // Runs and expects exit 0; returns stdout.
  std::string MustRun(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {}) const;

  // Objects of the zone as `get KIND -z ZONE -o json` shows them, without
  // versions and times, keyed "Kind/name".
  std::map<std::string, Json> ZoneObjects(const std::string& zone) const;

  std::string Log() const;
  // Stops the hub (SIGTERM and wait), as an outage would.
  void Stop();

 private:
  TempDir home_;
  int port_;
  int xds_port_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace causeway::testing
