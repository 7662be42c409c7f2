// The hub's xDS side under floods, on the real binary: ten thousand idle
// HTTP/2 connections to the xDS port, and ten thousand connected-but-idle
// ADS streams, each leave health and an authenticated REST read answering
// about as fast as an idle hub's (measured in turn, in the same run), and the hub's
// resident memory per idle connection and per idle stream is printed; at
// --xds-max-streams a stream beyond is refused with RESOURCE_EXHAUSTED at
// its first request, and the rate of refusals is printed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "overload_hub.h"
#include "support/process.h"
#include "xds_idle_clients.h"

namespace causeway::testing {
namespace {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryResponse;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Descriptors `pid` holds open (sockets included).
int OpenDescriptorsOf(pid_t pid) {
  std::error_code ec;
  int n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    ++n;
  }
  return n;
}

// Streams of `zone` the hub reports as connected (its status page).
size_t ReportedStreamsOf(LimitedHub& hub, const std::string& zone) {
  const std::string body = hub.Body("/v1/zones/" + zone + "/status");
  size_t n = 0;
  for (size_t at = body.find("\"node_id\""); at != std::string::npos;
       at = body.find("\"node_id\"", at + 1)) {
    ++n;
  }
  return n;
}

// Reads from the flooded hub against reads from an idle twin taken in
// turn: prints both p99s and the flooded hub's RSS growth per idle client,
// and checks its p99 within 3x of the idle twin's (plus a millisecond).
class XdsFloodReport {
 public:
  explicit XdsFloodReport(LimitedHub* hub) : hub_(hub), rss_before_(ResidentKb(hub->pid())) {
    EXPECT_TRUE(twin_.ready()) << twin_.Log();
  }

  void Held(int count, const std::string& what) {
    const long rss_after = ResidentKb(hub_->pid());
    EXPECT_EQ(hub_->Status("/healthz", ""), 200);
    const std::vector<ReadP99Pair> rounds = CompareReadP99(twin_, *hub_, 300);
    std::cout << "authenticated GET p99 (" << DescribeRounds(rounds) << ") with " << count << " "
              << what << "; RSS " << rss_before_ << " kB → " << rss_after << " kB ("
              << (rss_after - rss_before_) * 1024 / count << " bytes each)\n";
    EXPECT_TRUE(rounds.back().WithinBound()) << DescribeRounds(rounds);
  }

 private:
  LimitedHub* hub_;
  const long rss_before_;
  LimitedHub twin_{4096, {}};
};

TEST(XdsOverloadTest, TenThousandIdleXdsConnectionsLeaveTheHubAnswering) {
  constexpr int kIdle = 10000;
  ASSERT_TRUE(RaiseOpenFileLimit(kIdle + 1000)) << "cannot raise the open-file limit";
  LimitedHub hub(kIdle + 1000, {});
  ASSERT_TRUE(hub.ready()) << hub.Log();
  const int descriptors_before = OpenDescriptorsOf(hub.pid());
  XdsFloodReport report(&hub);

  std::vector<std::unique_ptr<IdleH2Connection>> idle;
  idle.reserve(kIdle);
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<IdleH2Connection>(hub.xds_port()));
    ASSERT_EQ(idle.back()->error(), "") << "connection " << i;
  }
  // Every one of them held by the hub (each answered its preface, so each
  // was accepted; none closed since).
  // (Less a few: the hub's own descriptors, a REST connection or the
  // store's journal, come and go.)
  ASSERT_TRUE(WaitFor(
      [&] { return OpenDescriptorsOf(hub.pid()) >= descriptors_before - 5 + kIdle; }, seconds(60)))
      << OpenDescriptorsOf(hub.pid()) << " descriptors open, " << descriptors_before << " before";
  report.Held(kIdle, "idle xDS connections (HTTP/2 preface done, no stream)");
}

TEST(XdsOverloadTest, TenThousandIdleAdsStreamsLeaveTheHubAnswering) {
  constexpr int kStreams = 10000;
  LimitedHub hub(4096, {});
  ASSERT_TRUE(hub.ready()) << hub.Log();
  ASSERT_EQ(hub.Send("POST", "/v1/zones", R"({"name": "idle"})"), 201);
  XdsFloodReport report(&hub);

  // A hundred streams per connection: what is measured is the stream.
  IdleAdsStreams streams(hub.xds_port(), kStreams / 100);
  ASSERT_TRUE(streams.Open(kStreams, "idle", seconds(120))) << streams.error();
  ASSERT_TRUE(WaitFor([&] { return ReportedStreamsOf(hub, "idle") == kStreams; }, seconds(120)))
      << ReportedStreamsOf(hub, "idle") << " streams reported";
  report.Held(kStreams, "idle ADS streams (one LDS request each, 100 per connection)");
}

// What a client beyond the limit sees of one stream, and how long it took.
struct RefusedStream {
  grpc::Status status;
  bool answered = false;  // a response arrived before the stream ended
  double ms = 0;
};

RefusedStream OpenOneStreamTooMany(AggregatedDiscoveryService::Stub* stub, const std::string& id) {
  RefusedStream out;
  const auto start = std::chrono::steady_clock::now();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  auto call = stub->StreamAggregatedResources(&context);
  call->Write(IdleAdsStreams::FirstRequest(id, "full"));
  DiscoveryResponse response;
  out.answered = call->Read(&response);
  if (out.answered) context.TryCancel();
  out.status = call->Finish();
  out.ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return out;
}

TEST(XdsOverloadTest, StreamsBeyondXdsMaxStreamsAreRefusedAtOnce) {
  constexpr int kMax = 20;
  LimitedHub hub(4096, {"--xds-max-streams", std::to_string(kMax)});
  ASSERT_TRUE(hub.ready()) << hub.Log();
  ASSERT_EQ(hub.Send("POST", "/v1/zones", R"({"name": "full"})"), 201);
  IdleAdsStreams held(hub.xds_port(), 1);
  ASSERT_TRUE(held.Open(kMax, "full", seconds(60))) << held.error();
  ASSERT_TRUE(WaitFor([&] { return ReportedStreamsOf(hub, "full") == kMax; }, seconds(60)));

  // Two clients, each opening one stream after another on its own connection.
  std::mutex mu;
  std::vector<double> refused_ms;
  std::vector<std::string> unexpected;
  const auto period = milliseconds(3000);
  const auto end = std::chrono::steady_clock::now() + period;
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t) {
    clients.emplace_back([&, t] {
      auto stub = AggregatedDiscoveryService::NewStub(IdleAdsStreams::NewChannel(hub.xds_port()));
      for (int i = 0; std::chrono::steady_clock::now() < end; ++i) {
        RefusedStream r =
            OpenOneStreamTooMany(stub.get(), std::to_string(t) + "-" + std::to_string(i));
        std::lock_guard lock(mu);
        if (!r.answered && r.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
            r.status.error_message().find("limit of 20") != std::string::npos) {
          refused_ms.push_back(r.ms);
        } else {
          unexpected.push_back(std::to_string(r.status.error_code()) + " " +
                               r.status.error_message());
        }
      }
    });
  }
  for (auto& client : clients) client.join();
  std::sort(refused_ms.begin(), refused_ms.end());
  ASSERT_FALSE(refused_ms.empty());
  std::cout << "xDS at --xds-max-streams " << kMax << ": " << refused_ms.size()
            << " streams refused in " << period.count() << " ms ("
            << refused_ms.size() * 1000 / period.count() << " per second), open to "
            << "RESOURCE_EXHAUSTED p50 " << refused_ms[refused_ms.size() / 2] << " ms, p99 "
            << P99Of(refused_ms) << " ms\n";
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " otherwise, first: " << unexpected[0];
  // The streams inside the limit were left alone.
  EXPECT_EQ(ReportedStreamsOf(hub, "full"), static_cast<size_t>(kMax));
}

}  // namespace
}  // namespace causeway::testing
