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
// gRPC's callback API: no thread per stream; the reactions run on gRPC's
// own small thread pool.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "common/time_source.h"
#include "absl/synchronization/mutex.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "proxy/xds_client/ads_state.h"
#include "spdlog/spdlog.h"

namespace {

using Clock = std::chrono::steady_clock;
using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using causeway::proxy::AdsState;
using causeway::proxy::XdsResources;

struct Options {
  std::string xds;
  std::string zone = "bench";
  std::string proxy = "front";
  int proxies = 1;  // > 1: clients identify as PROXY-0 .. PROXY-(M-1), round robin
  int clients = 100;
  double timeout_s = 60;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// What all clients report to the main thread.
struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  int configured = 0;
  int failed = 0;
  std::vector<Clock::time_point> configured_at;
  std::array<Clock::time_point, causeway::proxy::kXdsTypeCount> last_type_first{};
  std::atomic<uint32_t> marker{0};
  std::vector<Clock::time_point> marker_acked_at;
  // What the main thread waits for: it is woken when a count reaches these,
  // not on every report (a wake-up per client per change cost the load
  // generator a context switch each, CPU it shares with the hub).
  int clients = 0;
  int marker_acks_wanted = 0;
  std::string first_error;
};

bool HasPort(const XdsResources& set, uint32_t port) {
  for (const auto& [name, cla] : set.endpoints) {
    for (const auto& locality : cla->endpoints()) {
      for (const auto& lb : locality.lb_endpoints()) {
        if (lb.endpoint().address().socket_address().port_value() == port) return true;
      }
    }
  }
  return false;
}

class Client final : public grpc::ClientBidiReactor<DiscoveryRequest, DiscoveryResponse> {
 public:
  Client(int index, const Options& options, Shared* shared)
      : shared_(shared),
        state_(MakeNode(index, options), [](const XdsResources&) { return absl::OkStatus(); },
               &causeway::RealTime::Instance(), std::chrono::seconds(30)) {
    grpc::ChannelArguments args;
    // A channel of its own per client, like separate proxies: without this,
    // channels to one target share one connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // Envoy does no gRPC BDP pings either; they would double the packets.
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    channel_ = grpc::CreateCustomChannel(options.xds, grpc::InsecureChannelCredentials(), args);
    stub_ = AggregatedDiscoveryService::NewStub(channel_);
  }

  void Start() {
    stub_->async()->StreamAggregatedResources(&context_, this);
    const DiscoveryRequest* first = nullptr;
    {
      std::lock_guard lock(mu_);
      for (auto& r : state_.OnStreamStart()) queue_.push_back({std::move(r), {}});
      if (!queue_.empty()) {
        writing_ = true;
        first = &queue_.front().request;
      }
    }
    if (first != nullptr) StartWrite(first);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream is ending; OnDone follows
    const DiscoveryRequest* write = nullptr;
    {
      std::lock_guard lock(mu_);
      auto requests = state_.OnResponse(response_);
      Tag tag;
      for (int t = 0; t < causeway::proxy::kXdsTypeCount; ++t) {
        if (!type_seen_[t] && !state_.counters().versions[t].empty()) {
          type_seen_[t] = true;
          tag.types |= 1u << t;
        }
      }
      if (!configured_ && state_.counters().applies > 0) {
        configured_ = true;
        tag.configured = true;
      }
      uint32_t marker = shared_->marker.load();
      if (marker != 0 && acked_marker_ != marker && HasPort(*state_.applied(), marker)) {
        acked_marker_ = marker;
        tag.marker = marker;
      }
      if (requests.empty()) {
        Report(tag);  // nothing to send: the set is taken as it is
      } else {
        for (size_t i = 0; i < requests.size(); ++i) {
          // The times are those of the last write of the batch: the ACK.
          queue_.push_back({std::move(requests[i]), i + 1 == requests.size() ? tag : Tag{}});
        }
        if (!writing_) {
          writing_ = true;
          write = &queue_.front().request;
        }
      }
    }
    if (write != nullptr) StartWrite(write);
    StartRead(&response_);
  }

  void OnWriteDone(bool ok) override {
    const DiscoveryRequest* write = nullptr;
    {
      std::lock_guard lock(mu_);
      if (!ok) {
        queue_.clear();
        writing_ = false;
        return;
      }
      Report(queue_.front().tag);
      queue_.pop_front();
      writing_ = !queue_.empty();
      if (writing_) write = &queue_.front().request;
    }
    if (write != nullptr) StartWrite(write);
  }

  void OnDone(const grpc::Status& status) override {
    std::lock_guard lock(shared_->mu);
    ++shared_->failed;
    if (shared_->first_error.empty()) {
      shared_->first_error = std::to_string(status.error_code()) + " " + status.error_message();
    }
    shared_->cv.notify_all();
  }

 private:
  // What the write of a request completes.
  struct Tag {
    unsigned types = 0;  // bit per XdsType first ACKed
    bool configured = false;
    uint32_t marker = 0;
  };
  struct Outgoing {
    DiscoveryRequest request;
    Tag tag;
  };

  static envoy::config::core::v3::Node MakeNode(int index, const Options& options) {
    envoy::config::core::v3::Node node;
    node.set_id("bench-" + std::to_string(index));
    node.set_cluster(options.proxies > 1
                         ? options.proxy + "-" + std::to_string(index % options.proxies)
                         : options.proxy);
    node.mutable_locality()->set_zone(options.zone);
    node.set_user_agent_name("causeway-xds-loadgen");
    return node;
  }

  void Report(const Tag& tag) {
    if (tag.types == 0 && !tag.configured && tag.marker == 0) return;
    auto now = Clock::now();
    std::lock_guard lock(shared_->mu);
    for (int t = 0; t < causeway::proxy::kXdsTypeCount; ++t) {
      if (tag.types & (1u << t)) {
        shared_->last_type_first[t] = std::max(shared_->last_type_first[t], now);
      }
    }
    bool wake = false;
    if (tag.configured) {
      ++shared_->configured;
      shared_->configured_at.push_back(now);
      wake |= shared_->configured + shared_->failed >= shared_->clients;
    }
    if (tag.marker != 0 && tag.marker == shared_->marker.load()) {
      shared_->marker_acked_at.push_back(now);
      wake |= static_cast<int>(shared_->marker_acked_at.size()) >= shared_->marker_acks_wanted;
    }
    if (wake) shared_->cv.notify_all();
  }

  Shared* const shared_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<AggregatedDiscoveryService::Stub> stub_;
  grpc::ClientContext context_;
  DiscoveryResponse response_;

  std::mutex mu_;
  AdsState state_;
  std::deque<Outgoing> queue_;  // front: the write in flight
  bool writing_ = false;
  std::array<bool, causeway::proxy::kXdsTypeCount> type_seen_{};
  bool configured_ = false;
  uint32_t acked_marker_ = 0;
};

void Usage() {
  std::fprintf(stderr,
               "usage: xds_loadgen --xds HOST:PORT [--zone Z] [--proxy NAME] [--proxies M]\n"
               "                   [--clients N] [--timeout SECONDS]\n");
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
  const auto timeout = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options.timeout_s));

  Shared shared;
  shared.clients = options.clients;
  std::vector<std::unique_ptr<Client>> clients;
  clients.reserve(options.clients);
  const auto launch = Clock::now();
  for (int i = 0; i < options.clients; ++i) {
    clients.push_back(std::make_unique<Client>(i, options, &shared));
    clients.back()->Start();
  }
  const auto launched = Clock::now();

  int configured = 0;
  {
    std::unique_lock lock(shared.mu);
    shared.cv.wait_until(lock, launch + timeout, [&] {
      return shared.configured + shared.failed >= options.clients;
    });
    configured = shared.configured;
    std::vector<double> ms;
    Clock::time_point last = launch;
    for (auto t : shared.configured_at) {
      ms.push_back(Ms(t - launch));
      last = std::max(last, t);
    }
    auto type_ms = [&](causeway::proxy::XdsType type) {
      auto t = shared.last_type_first[static_cast<int>(type)];
      return t == Clock::time_point{} ? -1.0 : Ms(t - launch);
    };
    using causeway::proxy::XdsType;
    std::printf(
        "configured clients=%d ok=%d failed=%d all_ms=%.1f p50_ms=%.1f p99_ms=%.1f cds_ms=%.1f "
        "eds_ms=%.1f lds_ms=%.1f rds_ms=%.1f launch_ms=%.1f%s%s\n",
        options.clients, shared.configured, shared.failed,
        shared.configured == options.clients ? Ms(last - launch) : -1.0, Percentile(ms, 0.5),
        Percentile(ms, 0.99), type_ms(XdsType::kCluster), type_ms(XdsType::kEndpoint),
        type_ms(XdsType::kListener), type_ms(XdsType::kRoute), Ms(launched - launch),
        shared.first_error.empty() ? "" : " first_error=",
        shared.first_error.empty() ? "" : shared.first_error.c_str());
    std::fflush(stdout);
  }

  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.rfind("change ", 0) == 0) {
      uint32_t port = static_cast<uint32_t>(std::stoul(line.substr(7)));
      Clock::time_point armed;
      {
        std::lock_guard lock(shared.mu);
        shared.marker_acked_at.clear();
        shared.marker_acks_wanted = configured;
        shared.marker.store(port);
        armed = Clock::now();
      }
      std::printf("armed\n");
      std::fflush(stdout);
      std::unique_lock lock(shared.mu);
      shared.cv.wait_until(lock, armed + timeout, [&] {
        return static_cast<int>(shared.marker_acked_at.size()) >= configured;
      });
      std::vector<double> ms;
      Clock::time_point last = armed;
      for (auto t : shared.marker_acked_at) {
        ms.push_back(Ms(t - armed));
        last = std::max(last, t);
      }
      int missing = configured - static_cast<int>(ms.size());
      std::printf("acked port=%u all_ms=%.1f first_ms=%.1f p50_ms=%.1f missing=%d\n", port,
                  missing == 0 ? Ms(last - armed) : -1.0, Percentile(ms, 0.0),
                  Percentile(ms, 0.5), missing);
      std::fflush(stdout);
    } else if (line == "quit") {
      break;
    }
  }
  // Streams end with the process; the hub sees the connections close.
  std::fflush(stdout);
  _exit(0);
}
