// Request metrics in the Prometheus text format: counts by route, method
// and status code, and a latency histogram by route.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace causeway::hub::api {

class RequestMetrics {
 public:
  void Observe(std::string_view method, std::string_view route, int status,
               std::chrono::steady_clock::duration elapsed);
  // Appends the metric families to `out`.
  void Render(std::string* out) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

// The method's metrics label: the standard method names as they are,
// anything else "other" (methods are client-chosen strings).
std::string_view MethodLabel(std::string_view method);

// Escapes a Prometheus label value.
std::string PromLabel(std::string_view value);

}  // namespace causeway::hub::api
