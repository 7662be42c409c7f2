#include "overload_hub.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "gtest/gtest.h"
#include "net/http_client.h"

namespace causeway::testing {

using std::chrono::seconds;

IdleSocket::IdleSocket(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

IdleSocket::~IdleSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool RaiseOpenFileLimit(rlim_t n) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= n) return true;
  limit.rlim_cur = n;
  limit.rlim_max = std::max(limit.rlim_max, n);
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

long ResidentKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

LimitedHub::LimitedHub(int open_files, const std::vector<std::string>& flags) {
  Subprocess::Options options;
  options.argv = {"/bin/bash",
                  "-c",
                  "ulimit -n " + std::to_string(open_files) + " && exec \"$0\" \"$@\"",
                  BuiltBinary("causeway"),
                  "serve",
                  "--api",
                  "127.0.0.1:" + std::to_string(port_),
                  "--xds",
                  "127.0.0.1:" + std::to_string(xds_port_),
                  "--data-dir",
                  dir_.path(),
                  "--log-level",
                  "info"};
  options.argv.insert(options.argv.end(), flags.begin(), flags.end());
  options.log_path = dir_.File("hub.log");
  process_ = std::make_unique<Subprocess>(options);
  ready_ = WaitFor([&] { return Status("/readyz", "") == 200; }, seconds(30));
  std::ifstream in(dir_.File("admin.token"));
  in >> token_;
}

int LimitedHub::Status(const std::string& path, const std::string& token) {
  auto client = HttpClient::Create("http://127.0.0.1:" + std::to_string(port_),
                                   HttpClient::Options{seconds(10)});
  if (!client.ok()) return 0;
  HttpClient::Headers headers;
  if (!token.empty()) headers["Authorization"] = "Bearer " + token;
  auto res = (*client)->Send("GET", path, "", headers);
  return res.ok() ? res->status : 0;
}

std::string LimitedHub::Body(const std::string& path) {
  auto client = HttpClient::Create("http://127.0.0.1:" + std::to_string(port_),
                                   HttpClient::Options{seconds(10)});
  if (!client.ok()) return "";
  auto res = (*client)->Send("GET", path, "", {{"Authorization", "Bearer " + token_}});
  return res.ok() ? res->body : "";
}

int LimitedHub::Send(const std::string& method, const std::string& path, const std::string& body) {
  auto client = HttpClient::Create("http://127.0.0.1:" + std::to_string(port_),
                                   HttpClient::Options{seconds(10)});
  if (!client.ok()) return 0;
  auto res = (*client)->Send(
      method, path, body,
      {{"Authorization", "Bearer " + token_}, {"Content-Type", "application/json"}});
  return res.ok() ? res->status : 0;
}

double P99Of(const std::vector<double>& sorted) {
  return sorted[std::min(sorted.size() - 1, sorted.size() * 99 / 100)];
}

namespace {

double TimedReadMs(LimitedHub& hub) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(hub.Status("/v1/zones", hub.token()), 200);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

std::vector<ReadP99Pair> CompareReadP99(LimitedHub& idle, LimitedHub& loaded, int n, int rounds) {
  std::vector<ReadP99Pair> out;
  do {
    std::vector<double> idle_ms, loaded_ms;
    for (int i = 0; i < n; ++i) {
      idle_ms.push_back(TimedReadMs(idle));
      loaded_ms.push_back(TimedReadMs(loaded));
    }
    std::sort(idle_ms.begin(), idle_ms.end());
    std::sort(loaded_ms.begin(), loaded_ms.end());
    out.push_back({P99Of(idle_ms), P99Of(loaded_ms)});
  } while (!out.back().WithinBound() && static_cast<int>(out.size()) < rounds);
  return out;
}

std::string DescribeRounds(const std::vector<ReadP99Pair>& rounds) {
  std::string out;
  for (const ReadP99Pair& round : rounds) {
    if (!out.empty()) out += "; then ";
    out += "idle hub " + std::to_string(round.idle_ms) + " ms, loaded " +
           std::to_string(round.loaded_ms) + " ms";
  }
  return out;
}

}  // namespace causeway::testing
