// Counters of the ADS server, rendered as Prometheus text.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "xds/snapshot.h"

namespace causeway::xds {

class ServerMetrics {
 public:
  // Upper bounds (seconds) of the change-to-ACK histogram buckets.
  static constexpr std::array<double, 12> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10,  30};

  // Called (on the xDS threads, so it must be quick) whenever what
  // XdsServer::ZoneStatus reports of a stream may have changed: a stream
  // registered or gone, a push, an ACK, a NACK. Set before the server starts.
  void SetStreamChangeListener(std::function<void()> listener) {
    stream_change_ = std::move(listener);
  }
  void StreamChanged() const {
    if (stream_change_) stream_change_();
  }

  void StreamOpened(bool delta) { (delta ? delta_streams_ : sotw_streams_)++; }
  void StreamClosed(bool delta) { (delta ? delta_streams_ : sotw_streams_)--; }
  void Push(ResourceType type) {
    pushes_[Index(type)]++;
    StreamChanged();
  }
  void Ack(ResourceType type) {
    acks_[Index(type)]++;
    StreamChanged();
  }
  void Nack(ResourceType type) {
    nacks_[Index(type)]++;
    StreamChanged();
  }
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
  std::function<void()> stream_change_;
};

}  // namespace causeway::xds
