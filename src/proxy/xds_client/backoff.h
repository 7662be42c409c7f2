// Exponential backoff with jitter for reconnecting to the control plane, so a
// fleet of proxies that lost the hub together does not reconnect in lockstep.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace causeway::proxy {

class Backoff {
 public:
  struct Options {
    std::chrono::milliseconds initial{100};
    std::chrono::milliseconds max{10000};
    double multiplier = 2.0;
    // Each delay is drawn uniformly from [base * (1 - jitter), base * (1 + jitter)],
    // capped at `max`.
    double jitter = 0.2;
  };

  Backoff(Options options, uint64_t seed);

  // The delay before the next attempt; grows until Reset().
  std::chrono::milliseconds Next();
  // Called once a connection proved healthy: the next failure starts small again.
  void Reset() { base_ = options_.initial; }

 private:
  Options options_;
  std::chrono::milliseconds base_;
  std::mt19937_64 rng_;
};

}  // namespace causeway::proxy
