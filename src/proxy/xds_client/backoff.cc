#include "proxy/xds_client/backoff.h"

#include <algorithm>

namespace causeway::proxy {

Backoff::Backoff(Options options, uint64_t seed)
    : options_(options), base_(options.initial), rng_(seed) {}

std::chrono::milliseconds Backoff::Next() {
  const double base = static_cast<double>(base_.count());
  std::uniform_real_distribution<double> factor(1.0 - options_.jitter, 1.0 + options_.jitter);
  const double delay = std::min(base * factor(rng_), static_cast<double>(options_.max.count()));
  const double next =
      std::min(base * options_.multiplier, static_cast<double>(options_.max.count()));
  base_ = std::chrono::milliseconds(static_cast<int64_t>(next));
  return std::chrono::milliseconds(std::max<int64_t>(1, static_cast<int64_t>(delay)));
}

}  // namespace causeway::proxy
