#include "xds/server_metrics.h"

#include <cstdio>

#include "common/strings.h"

namespace causeway::xds {
namespace {

std::string FormatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

}  // namespace

void ServerMetrics::ObserveChangeToAck(double seconds) {
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      bucket_counts_[i]++;
      break;
    }
  }
  observations_++;
  sum_micros_ += static_cast<uint64_t>(seconds * 1e6);
}

std::string ServerMetrics::Prometheus() const {
  std::string out;
  out += "# HELP causeway_xds_connected_streams ADS streams currently open.\n";
  out += "# TYPE causeway_xds_connected_streams gauge\n";
  out += StrCat("causeway_xds_connected_streams{variant=\"sotw\"} ", sotw_streams_.load(), "\n");
  out += StrCat("causeway_xds_connected_streams{variant=\"delta\"} ", delta_streams_.load(), "\n");

  struct Family {
    const char* name;
    const char* help;
    const std::array<std::atomic<uint64_t>, kResourceTypeCount>* values;
  };
  const Family families[] = {
      {"causeway_xds_pushes_total", "xDS responses sent.", &pushes_},
      {"causeway_xds_acks_total", "xDS responses ACKed by clients.", &acks_},
      {"causeway_xds_nacks_total", "xDS responses NACKed by clients.", &nacks_},
  };
  for (const auto& family : families) {
    out += StrCat("# HELP ", family.name, " ", family.help, "\n");
    out += StrCat("# TYPE ", family.name, " counter\n");
    for (ResourceType type : kPushOrder) {
      out += StrCat(family.name, "{type=\"", TypeShortName(type), "\"} ",
                    (*family.values)[Index(type)].load(), "\n");
    }
  }
  out += "# HELP causeway_xds_snapshots_total Zone snapshots built.\n";
  out += "# TYPE causeway_xds_snapshots_total counter\n";
  out += StrCat("causeway_xds_snapshots_total ", snapshots_.load(), "\n");

  out +=
      "# HELP causeway_xds_change_to_ack_seconds Time from a catalog change until a proxy "
      "ACKed the configuration it caused.\n";
  out += "# TYPE causeway_xds_change_to_ack_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += bucket_counts_[i].load();
    out += StrCat("causeway_xds_change_to_ack_seconds_bucket{le=\"", FormatDouble(kBuckets[i]),
                  "\"} ", cumulative, "\n");
  }
  const uint64_t count = observations_.load();
  out += StrCat("causeway_xds_change_to_ack_seconds_bucket{le=\"+Inf\"} ", count, "\n");
  out += StrCat("causeway_xds_change_to_ack_seconds_sum ",
                FormatDouble(static_cast<double>(sum_micros_.load()) / 1e6), "\n");
  out += StrCat("causeway_xds_change_to_ack_seconds_count ", count, "\n");
  return out;
}

}  // namespace causeway::xds
