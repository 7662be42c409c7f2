// What the hub's flood tests share: a `causeway serve` process with its own
// open-file limit, idle client sockets, this process's open-file limit,
// resident memory, and the latency of authenticated reads.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace causeway::testing {

// A connected loopback socket that sends nothing: an idle client.
class IdleSocket {
 public:
  explicit IdleSocket(int port);
  ~IdleSocket();
  IdleSocket(const IdleSocket&) = delete;
  IdleSocket& operator=(const IdleSocket&) = delete;
  bool ok() const { return ok_; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

// Raises this process's open-file limit to `n` (root may); false if not.
bool RaiseOpenFileLimit(rlim_t n);

// Resident memory of `pid` in kB (-1 if unknown).
long ResidentKb(pid_t pid);

// `causeway serve` with an open-file limit of its own (set by the shell
// that execs it) and the given flags, on SQLite in a temporary directory,
// REST and xDS on loopback ports chosen now.
class LimitedHub {
 public:
  LimitedHub(int open_files, const std::vector<std::string>& flags);
  bool ready() const { return ready_ && !token_.empty(); }
  int port() const { return port_; }
  int xds_port() const { return xds_port_; }
  pid_t pid() const { return process_->pid(); }
  const std::string& token() const { return token_; }
  std::string Log() const { return process_->Log(); }

  // The status of GET `path` on a new connection (0 when it fails).
  int Status(const std::string& path, const std::string& token);
  // The body of GET `path` with the admin token (on a new connection).
  std::string Body(const std::string& path);
  // The status of `method` `path` with `body` and the admin token.
  int Send(const std::string& method, const std::string& path, const std::string& body);

 private:
  TempDir dir_;
  const int port_ = FreePort();
  const int xds_port_ = FreePort();
  std::unique_ptr<Subprocess> process_;
  bool ready_ = false;
  std::string token_;
};

// The 99th percentile of sorted latencies.
double P99Of(const std::vector<double>& sorted);

// The p99s of authenticated reads taken in turn from an idle hub and from
// a loaded one, `n` each, so that whatever else the machine is doing falls
// on both alike.
struct ReadP99Pair {
  double idle_ms = 0;
  double loaded_ms = 0;
  // The loaded hub within 3x of the idle one (plus a millisecond).
  bool WithinBound() const { return loaded_ms <= 3 * idle_ms + 1.0; }
};
// Measured again (up to `rounds` times in all) while out of bound: one
// slow round on a shared machine is noise, a hub slowed down stays slow.
// The last round is the verdict.
std::vector<ReadP99Pair> CompareReadP99(LimitedHub& idle, LimitedHub& loaded, int n,
                                        int rounds = 3);
// "idle 0.4 ms, loaded 0.5 ms; ..." for a test's output.
std::string DescribeRounds(const std::vector<ReadP99Pair>& rounds);

}  // namespace causeway::testing
