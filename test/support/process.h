// Test support: child processes, free ports, temporary directories and
// waiting on conditions with a deadline (never a bare sleep).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace causeway::testing {

// A port on 127.0.0.1 that was free a moment ago, drawn at random below
// the kernel's ephemeral range, and not one this process was given before
// (process.cc says why not the kernel's own pick).
int FreePort();

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `condition` every few milliseconds until it holds or `timeout`
// passes; returns whether it held.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A child process; stdout and stderr go to `log_path` (or are inherited when
// empty). Killed with SIGKILL on destruction if still running.
class Subprocess {
 public:
  struct Options {
    std::vector<std::string> argv;           // argv[0] is the program path
    std::map<std::string, std::string> env;  // added to the parent's env
    std::string log_path;
    std::string run_as_user;  // e.g. "postgres" when root
  };
  explicit Subprocess(Options options);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  void Signal(int sig);
  // Waits for exit; returns the exit status as from waitpid, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // SIGTERM then wait; SIGKILL if it does not exit in `grace`.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  std::string Log() const;  // contents of log_path

 private:
  Options options_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// Path of a binary built by this project (from CAUSEWAY_BUILD_DIR, set by
// CTest), e.g. BuiltBinary("causeway").
std::string BuiltBinary(const std::string& name);

// True when a TCP connect to 127.0.0.1:port succeeds.
bool PortOpen(int port);

}  // namespace causeway::testing
