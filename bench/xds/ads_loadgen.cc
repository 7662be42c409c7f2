// xds_loadgen: N simulated causeway-proxy ADS clients in one process, for
// bench/xds/run.
//
// Each client is what causeway-proxy is on the wire: its own gRPC channel
// (own TCP connection), an Envoy v3 Node (node.cluster = proxy, node.locality
// .zone = zone, node.id unique), state-of-the-world ADS driven by the proxy's
// own protocol state (proxy::AdsState: LDS+CDS wildcard, then the RDS/EDS
// names they reference, ACK with version_info + response_nonce, NACK on
// what it cannot use). Nothing is applied to a data plane.
//
//   xds_loadgen --xds 127.0.0.1:50000 --zone bench --proxy front --clients 1000
//
// All clients are launched at once. When every one has ACKed a complete set
// (or --timeout passes) it prints
//   configured clients=N ok=N failed=0 all_ms=.. p50_ms=.. p99_ms=.. cds_ms=..
//     eds_ms=.. lds_ms=.. rds_ms=.. launch_ms=..
// (times from the launch; the per-type columns are when the last client first
// ACKed that type), then reads commands on stdin:
//   change PORT   arm: from now on, wait until every configured client has ACKed
//                 a set whose endpoints include port PORT; prints "armed", then
//                 "acked port=PORT all_ms=.. first_ms=.. p50_ms=.. missing=K" (times from
//                 the arming; missing = clients that had not ACKed by --timeout)
//   quit          (or end of input) exit
//
// gRPC's async API, one completion queue polled by one thread that runs every
// client (ads_client.h): the load generator shares the machine's cores with
// the hub it measures, and gRPC's callback API cost it a thread hand-off and
// a lock per message. The main thread only reads stdin, launches the clients
// and prints; it waits for results the polling thread hands over whole.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "ads_client.h"
#include "spdlog/spdlog.h"

namespace {

using causeway::bench::AdsClient;
using causeway::bench::ClientReports;
using causeway::bench::Clock;
using causeway::bench::Milestones;
using causeway::bench::RunAt;
using causeway::proxy::XdsType;

struct Options {
  std::string xds;
  std::string zone = "bench";
  std::string proxy = "front";
  int proxies = 1;  // > 1: clients identify as PROXY-0 .. PROXY-(M-1), round robin
  int clients = 100;
  double timeout_s = 60;
  std::string ca_file;     // TLS, trusting this CA
  std::string token_file;  // a bearer token on every stream
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "xds_loadgen: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::ostringstream out;
  out << in.rdbuf();
  std::string text = out.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

envoy::config::core::v3::Node MakeNode(int index, const Options& options) {
  envoy::config::core::v3::Node node;
  node.set_id("bench-" + std::to_string(index));
  node.set_cluster(options.proxies > 1
                       ? options.proxy + "-" + std::to_string(index % options.proxies)
                       : options.proxy);
  node.mutable_locality()->set_zone(options.zone);
  node.set_user_agent_name("causeway-xds-loadgen");
  return node;
}

// How the clients' first configuration went.
struct Configured {
  int ok = 0;
  int failed = 0;
  std::vector<Clock::time_point> at;  // per configured client
  std::array<Clock::time_point, causeway::proxy::kXdsTypeCount> last_type_first{};
  std::string first_error;
};

// One `change PORT`: made by the main thread, fulfilled by the polling thread.
// Shared, so that the promises outlive set_value even when the main thread is
// done first.
struct Change {
  explicit Change(uint32_t p) : port(p) {}
  uint32_t port;
  std::promise<Clock::time_point> armed;
  std::promise<std::vector<Clock::time_point>> acked;  // one time per client ACKing it
};

// What the clients did, kept on the polling thread: the clients report to it
// there, and the main thread reaches it only through the completion queue
// (RunAt) and receives results through promises. So reports take no lock, and
// the main thread is woken once per result instead of once per client.
class Tally final : public ClientReports {
 public:
  Tally(grpc::CompletionQueue* cq, int clients, Clock::duration timeout)
      : cq_(cq), clients_(clients), timeout_(timeout) {}

  // Main thread, before the clients start: ready when every client has been
  // configured or has failed, or at `launch` + timeout.
  std::future<Configured> AwaitConfigured(Clock::time_point launch) {
    RunAt(cq_, launch + timeout_, [this](bool) { PublishConfigured(); });
    return configured_.get_future();
  }

  // Main thread: arms `change` (its `armed` is set once clients look for the
  // port) and fulfils its `acked` when every configured client has ACKed the
  // port, or at the timeout.
  void Arm(std::shared_ptr<Change> change) {
    RunAt(cq_, Clock::now(), [this, change = std::move(change)](bool) { OnArm(change); });
  }

  uint32_t marker() const override { return marker_; }

  void Reached(const Milestones& reached, Clock::time_point at) override {
    for (int t = 0; t < causeway::proxy::kXdsTypeCount; ++t) {
      if (reached.types & (1u << t)) {
        record_.last_type_first[t] = std::max(record_.last_type_first[t], at);
      }
    }
    if (reached.configured) {
      ++record_.ok;
      record_.at.push_back(at);
      if (record_.ok + record_.failed >= clients_) PublishConfigured();
    }
    if (change_ != nullptr && reached.marker != 0 && reached.marker == marker_) {
      acked_at_.push_back(at);
      if (static_cast<int>(acked_at_.size()) >= wanted_) PublishChange();
    }
  }

  void Failed(const grpc::Status& status) override {
    ++record_.failed;
    if (record_.first_error.empty()) {
      record_.first_error = std::to_string(status.error_code()) + " " + status.error_message();
    }
    if (record_.ok + record_.failed >= clients_) PublishConfigured();
  }

 private:
  void PublishConfigured() {
    if (configured_published_) return;
    configured_published_ = true;
    wanted_ = record_.ok;  // the clients every change waits for
    configured_.set_value(record_);
  }

  void OnArm(const std::shared_ptr<Change>& change) {
    marker_ = change->port;
    change_ = change;
    acked_at_.clear();
    const int phase = ++phase_;
    const auto armed = Clock::now();
    change->armed.set_value(armed);
    // A timer of an earlier change that ended in time is stale: `phase` tells.
    RunAt(cq_, armed + timeout_, [this, phase](bool) {
      if (phase == phase_) PublishChange();
    });
    if (static_cast<int>(acked_at_.size()) >= wanted_) PublishChange();  // none configured
  }

  void PublishChange() {
    if (change_ == nullptr) return;
    change_->acked.set_value(std::move(acked_at_));
    change_ = nullptr;
    marker_ = 0;  // clients stop looking for it
  }

  grpc::CompletionQueue* const cq_;
  const int clients_;
  const Clock::duration timeout_;

  Configured record_;
  std::promise<Configured> configured_;
  bool configured_published_ = false;
  int wanted_ = 0;

  std::shared_ptr<Change> change_;  // the change waited for, if any
  uint32_t marker_ = 0;
  std::vector<Clock::time_point> acked_at_;
  int phase_ = 0;  // counts changes
};

void PrintConfigured(const Configured& c, int clients, Clock::time_point launch,
                     Clock::time_point launched) {
  std::vector<double> ms;
  Clock::time_point last = launch;
  for (auto t : c.at) {
    ms.push_back(Ms(t - launch));
    last = std::max(last, t);
  }
  auto type_ms = [&](XdsType type) {
    auto t = c.last_type_first[static_cast<int>(type)];
    return t == Clock::time_point{} ? -1.0 : Ms(t - launch);
  };
  std::printf(
      "configured clients=%d ok=%d failed=%d all_ms=%.1f p50_ms=%.1f p99_ms=%.1f cds_ms=%.1f "
      "eds_ms=%.1f lds_ms=%.1f rds_ms=%.1f launch_ms=%.1f%s%s\n",
      clients, c.ok, c.failed, c.ok == clients ? Ms(last - launch) : -1.0, Percentile(ms, 0.5),
      Percentile(ms, 0.99), type_ms(XdsType::kCluster), type_ms(XdsType::kEndpoint),
      type_ms(XdsType::kListener), type_ms(XdsType::kRoute), Ms(launched - launch),
      c.first_error.empty() ? "" : " first_error=", c.first_error.c_str());
  std::fflush(stdout);
}

void PrintAcked(uint32_t port, Clock::time_point armed, const std::vector<Clock::time_point>& at,
                int configured) {
  std::vector<double> ms;
  Clock::time_point last = armed;
  for (auto t : at) {
    ms.push_back(Ms(t - armed));
    last = std::max(last, t);
  }
  int missing = configured - static_cast<int>(ms.size());
  std::printf("acked port=%u all_ms=%.1f first_ms=%.1f p50_ms=%.1f missing=%d\n", port,
              missing == 0 ? Ms(last - armed) : -1.0, Percentile(ms, 0.0), Percentile(ms, 0.5),
              missing);
  std::fflush(stdout);
}

void Usage() {
  std::fprintf(stderr,
               "usage: xds_loadgen --xds HOST:PORT [--zone Z] [--proxy NAME] [--proxies M]\n"
               "                   [--clients N] [--timeout SECONDS] [--ca FILE]\n"
               "                   [--token-file FILE]\n");
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) Usage();
    std::string value = argv[++i];
    if (flag == "--xds") {
      o.xds = value;
    } else if (flag == "--zone") {
      o.zone = value;
    } else if (flag == "--proxy") {
      o.proxy = value;
    } else if (flag == "--proxies") {
      o.proxies = std::stoi(value);
    } else if (flag == "--clients") {
      o.clients = std::stoi(value);
    } else if (flag == "--timeout") {
      o.timeout_s = std::stod(value);
    } else if (flag == "--ca") {
      o.ca_file = value;
    } else if (flag == "--token-file") {
      o.token_file = value;
    } else {
      Usage();
    }
  }
  if (o.xds.empty() || o.clients <= 0 || o.proxies <= 0) Usage();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = Parse(argc, argv);
  // Debian's Abseil keeps absl::Mutex deadlock detection on (no NDEBUG); its
  // graph grows with every channel and made launching 5,000 clients slow.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // AdsState logs every accepted response at info.
  spdlog::set_level(spdlog::level::warn);
  const auto timeout =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.timeout_s));

  grpc::CompletionQueue cq;
  // Polls until the process exits; it is never shut down.
  std::thread(causeway::bench::PollForever, &cq).detach();

  Tally tally(&cq, options.clients, timeout);
  std::vector<std::unique_ptr<AdsClient>> clients;
  clients.reserve(options.clients);
  const auto launch = Clock::now();
  auto configured = tally.AwaitConfigured(launch);
  causeway::bench::ClientSecurity security;
  if (!options.ca_file.empty()) security.ca_pem = ReadFile(options.ca_file);
  if (!options.token_file.empty()) security.token = ReadFile(options.token_file);
  for (int i = 0; i < options.clients; ++i) {
    clients.push_back(
        std::make_unique<AdsClient>(options.xds, MakeNode(i, options), &cq, &tally, security));
    clients.back()->Start();
  }
  const auto launched = Clock::now();
  const Configured result = configured.get();
  PrintConfigured(result, options.clients, launch, launched);

  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.rfind("change ", 0) == 0) {
      auto change = std::make_shared<Change>(static_cast<uint32_t>(std::stoul(line.substr(7))));
      auto armed = change->armed.get_future();
      auto acked = change->acked.get_future();
      tally.Arm(change);
      const auto armed_at = armed.get();
      std::printf("armed\n");
      std::fflush(stdout);
      PrintAcked(change->port, armed_at, acked.get(), result.ok);
    } else if (line == "quit") {
      break;
    }
  }
  // Streams end with the process; the hub sees the connections close.
  std::fflush(stdout);
  _exit(0);
}
