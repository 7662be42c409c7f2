// Counters of the ADS server, rendered as Prometheus text.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "xds/snapshot.h"

namespace causeway::xds {

class ServerMetrics {
 public:
  // Upper bounds (seconds) of the change-to-ACK histogram buckets.
  static constexpr std::array<double, 12> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10,  30};

  void StreamOpened(bool delta) { (delta ? delta_streams_ : sotw_streams_)++; }
  void StreamClosed(bool delta) { (delta ? delta_streams_ : sotw_streams_)--; }
  void Push(ResourceType type) { pushes_[Index(type)]++; }
  void Ack(ResourceType type) { acks_[Index(type)]++; }
  void Nack(ResourceType type) { nacks_[Index(type)]++; }
  void Snapshot() { snapshots_++; }
  // Time from a catalog change until one stream has ACKed everything it caused.
  void ObserveChangeToAck(double seconds);

  int64_t connected_streams() const { return sotw_streams_ + delta_streams_; }
  uint64_t pushes(ResourceType type) const { return pushes_[Index(type)]; }
  uint64_t acks(ResourceType type) const { return acks_[Index(type)]; }
  uint64_t nacks(ResourceType type) const { return nacks_[Index(type)]; }

  std::string Prometheus() const;

 private:
  static int Index(ResourceType type) { return static_cast<int>(type); }

  std::atomic<int64_t> sotw_streams_{0}, delta_streams_{0};
  std::array<std::atomic<uint64_t>, kResourceTypeCount> pushes_{}, acks_{}, nacks_{};
  std::atomic<uint64_t> snapshots_{0};
  std::array<std::atomic<uint64_t>, kBuckets.size()> bucket_counts_{};  // not cumulative
  std::atomic<uint64_t> observations_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

}  // namespace causeway::xds
