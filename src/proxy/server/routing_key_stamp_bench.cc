// What stamping costs one request on the request path (Google Benchmark):
// a request with a dozen headers and no trace ids, a trace the memory does
// not know, a trace it knows (the header added), a keyed request teaching
// it, and the same on two threads sharing one memory (the workers).
// Build target proxy_routing_key_stamp_bench; the numbers measured are in
// docs/two-way-routing.md ("Stamping the key").
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "proxy/server/routing_key_stamp.h"

namespace causeway::proxy {
namespace {

std::vector<http1::Header> StampBenchHeaders() {
  return {{"host", "api.staging.test"},
          {"user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"},
          {"accept", "application/json"},
          {"accept-encoding", "gzip, deflate, br"},
          {"accept-language", "en-US,en;q=0.9"},
          {"content-type", "application/json"},
          {"authorization", "Bearer abcdefghijklmnopqrstuvwxyz0123456789"},
          {"x-forwarded-for", "10.1.2.3"},
          {"x-forwarded-proto", "https"},
          {"cache-control", "no-cache"},
          {"cookie", "session=0123456789abcdef; theme=dark"},
          {"baggage", "user=7,tenant=blue"}};
}

std::string StampBenchTraceparent(uint64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "00-%032llx-00f067aa0ba902b7-01",
                static_cast<unsigned long long>(n + 1));
  return buf;
}

RoutingKeyStamper& StampBenchStamper() {
  static RoutingKeyStamper* stamper = [] {
    auto* s = new RoutingKeyStamper({}, RealTime::Instance());
    // A memory holding 50,000 traces, as a busy staging proxy's might.
    for (uint64_t i = 0; i < 50000; ++i) {
      const std::string tp = StampBenchTraceparent(i);
      http1::RequestHead req;
      req.headers = {{"x-causeway-key", "alice"}, {"traceparent", tp}};
      std::string storage;
      s->Stamp(req, &storage);
    }
    return s;
  }();
  return *stamper;
}

void BM_StampNoTrace(benchmark::State& state) {
  RoutingKeyStamper& stamper = StampBenchStamper();
  std::string storage;
  for (auto _ : state) {
    http1::RequestHead req;
    req.headers = StampBenchHeaders();
    benchmark::DoNotOptimize(stamper.Stamp(req, &storage));
  }
}
BENCHMARK(BM_StampNoTrace);

// `remembered`: the trace is one of the memory's (a hit); else unknown.
void StampBenchTraced(benchmark::State& state, bool remembered) {
  RoutingKeyStamper& stamper = StampBenchStamper();
  std::vector<std::string> traces;
  for (uint64_t i = 0; i < 1024; ++i) {
    traces.push_back(StampBenchTraceparent(remembered ? i * 37 : 1000000 + i));
  }
  std::string storage;
  size_t n = static_cast<size_t>(state.thread_index()) * 101;
  for (auto _ : state) {
    http1::RequestHead req;
    req.headers = StampBenchHeaders();
    req.headers.push_back({"traceparent", traces[n++ % traces.size()]});
    benchmark::DoNotOptimize(stamper.Stamp(req, &storage));
  }
}
void BM_StampTraceMiss(benchmark::State& state) { StampBenchTraced(state, false); }
void BM_StampTraceHit(benchmark::State& state) { StampBenchTraced(state, true); }
BENCHMARK(BM_StampTraceMiss);
BENCHMARK(BM_StampTraceHit);
BENCHMARK(BM_StampTraceHit)->Threads(2);

void BM_StampRemember(benchmark::State& state) {
  RoutingKeyStamper& stamper = StampBenchStamper();
  std::vector<std::string> traces;
  for (uint64_t i = 0; i < 1024; ++i) traces.push_back(StampBenchTraceparent(i * 37));
  std::string storage;
  size_t n = 0;
  for (auto _ : state) {
    http1::RequestHead req;
    req.headers = StampBenchHeaders();
    req.headers.push_back({"x-causeway-key", "alice"});
    req.headers.push_back({"traceparent", traces[n++ % traces.size()]});
    benchmark::DoNotOptimize(stamper.Stamp(req, &storage));
  }
}
BENCHMARK(BM_StampRemember);

// The headers' copy alone, to subtract from the others.
void BM_StampBaselineCopy(benchmark::State& state) {
  for (auto _ : state) {
    http1::RequestHead req;
    req.headers = StampBenchHeaders();
    benchmark::DoNotOptimize(req.headers.data());
  }
}
BENCHMARK(BM_StampBaselineCopy);

}  // namespace
}  // namespace causeway::proxy

BENCHMARK_MAIN();
