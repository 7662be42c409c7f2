#include "hub/api/metrics.h"

#include "absl/strings/str_format.h"
#include "common/strings.h"

namespace causeway::hub::api {

std::string PromLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string_view MethodLabel(std::string_view method) {
  static constexpr std::array<std::string_view, 7> kKnown = {"GET",    "HEAD",    "POST", "PUT",
                                                             "DELETE", "OPTIONS", "PATCH"};
  for (std::string_view known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

void RequestMetrics::Observe(std::string_view method, std::string_view route, int status,
                             std::chrono::steady_clock::duration elapsed) {
  double seconds = std::chrono::duration<double>(elapsed).count();
  // Every label comes from a fixed set: the route is a registered pattern
  // (or "unmatched"), the method one of the standard ones, the status a
  // code the server itself chose. A client, even without a token, cannot
  // make new series.
  std::string label = route.empty() ? "unmatched" : std::string(route);
  if (status < 100 || status > 599) status = 0;
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{label, std::string(MethodLabel(method)), status}];
  Histogram& h = latency_[label];
  ++h.count;
  h.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.counts[i];
      break;
    }
  }
}

void RequestMetrics::Render(std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  *out += "# HELP causeway_http_requests_total HTTP requests by route, method and status.\n";
  *out += "# TYPE causeway_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    *out +=
        absl::StrFormat("causeway_http_requests_total{route=\"%s\",method=\"%s\",code=\"%d\"} %d\n",
                        PromLabel(route), PromLabel(method), status, count);
  }
  *out += "# HELP causeway_http_request_duration_seconds HTTP request latency by route.\n";
  *out += "# TYPE causeway_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    std::string label = PromLabel(route);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      *out += absl::StrFormat(
          "causeway_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %d\n", label,
          kBuckets[i], cumulative);
    }
    *out += absl::StrFormat(
        "causeway_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %d\n", label,
        h.count);
    *out += absl::StrFormat("causeway_http_request_duration_seconds_sum{route=\"%s\"} %f\n", label,
                            h.sum);
    *out += absl::StrFormat("causeway_http_request_duration_seconds_count{route=\"%s\"} %d\n",
                            label, h.count);
  }
}

}  // namespace causeway::hub::api
