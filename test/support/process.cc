#include "process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace causeway::testing {

namespace {

// The lowest port of the kernel's ephemeral range (bind to port 0, and the
// source port of every outgoing connection, come from it).
int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  in >> low;
  return low;
}

// Whether 127.0.0.1:`port` can be bound right now.
bool Bindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int FreePort() {
  static std::mutex mutex;
  static std::set<int> given;
  static std::mt19937 random(std::random_device{}());
  std::lock_guard<std::mutex> lock(mutex);
  // A random port below the kernel's ephemeral range, not one the kernel
  // picks: the kernel hands the port a bind to 0 just released to the next
  // bind to 0, so two test processes run in parallel (ctest -j) were given
  // the same port, and one's server could not listen. Below the range no
  // bind to 0 and no outgoing connection takes it; two processes meet only
  // by drawing the same of about 20,000 ports.
  static const int high = std::min(EphemeralLow(), 65536) - 1;  // read once
  static std::uniform_int_distribution<int> pick(std::min(10000, high / 2), high);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    int port = pick(random);
    if (given.count(port) || !Bindable(port)) continue;
    given.insert(port);
    return port;
  }
  throw std::runtime_error("FreePort: no free port left below the ephemeral range");
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/causeway-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
  // World-accessible so helper servers running as another user (PostgreSQL)
  // can use subdirectories.
  ::chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Subprocess::Subprocess(Options options) : options_(std::move(options)) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    if (!options_.env.count(key)) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : options_.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : options_.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  uid_t uid = 0;
  gid_t gid = 0;
  if (!options_.run_as_user.empty()) {
    passwd* pw = ::getpwnam(options_.run_as_user.c_str());
    if (pw == nullptr) throw std::runtime_error("no such user: " + options_.run_as_user);
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);
    if (!options_.log_path.empty()) {
      int fd = ::open(options_.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
    }
    if (!options_.run_as_user.empty()) {
      if (::setgid(gid) != 0 || ::setuid(uid) != 0) _exit(126);
    }
    // A test killed mid-run (a crash, CTest's timeout) never reaches the
    // destructor: the child dies with it instead of holding its ports for
    // the tests after. Set after setuid, which clears it; a parent already
    // gone is caught by the getppid check.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(125);
    ::execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
}

bool Subprocess::Running() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = status;
    return false;
  }
  return true;
}

void Subprocess::Signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

int Subprocess::Wait(std::chrono::milliseconds timeout) {
  if (WaitFor([&] { return !Running(); }, timeout)) return status_;
  return -1;
}

int Subprocess::Stop(std::chrono::milliseconds grace) {
  Signal(SIGTERM);
  int status = Wait(grace);
  if (status == -1) {
    Signal(SIGKILL);
    status = Wait(std::chrono::seconds(10));
  }
  return status;
}

std::string Subprocess::Log() const {
  std::ifstream in(options_.log_path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string BuiltBinary(const std::string& name) {
  const char* dir = std::getenv("CAUSEWAY_BUILD_DIR");
  std::string base = dir ? dir : ".";
  for (const char* sub : {"/src/exe/", "/"}) {
    std::string path = base + sub + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  throw std::runtime_error("binary not built: " + name + " (CAUSEWAY_BUILD_DIR=" + base + ")");
}

bool PortOpen(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace causeway::testing
