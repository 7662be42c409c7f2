// Debian's nginx for tests: one foreground process (no daemon, no master)
// in a temporary prefix, so stopping the process stops nginx. The test gives
// what goes inside `http { }`; the preamble every test needs (pid and error
// log in the prefix, temporary paths nginx would otherwise put under /var,
// no access log) is written here. On a failed test the error log is printed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace causeway::testing {

inline constexpr char kNginxBinary[] = "/usr/sbin/nginx";

class NginxServer {
 public:
  // `http_body`: the directives and servers of the `http` block.
  explicit NginxServer(std::string http_body, int worker_connections = 256);
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  // Starts nginx and waits until every port of `ports` accepts connections;
  // false (with nginx's error log in the failure) if one does not.
  bool Start(const std::vector<uint16_t>& ports);
  // Stops nginx (SIGTERM, then SIGKILL if it lingers).
  void Stop();
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::string http_body_;
  int worker_connections_;
  std::unique_ptr<Subprocess> nginx_;
};

}  // namespace causeway::testing
