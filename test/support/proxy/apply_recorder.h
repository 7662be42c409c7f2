// Test double for the data plane's apply callback: records every set handed
// to it and fails on demand.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "proxy/xds_client/resources.h"

namespace causeway::proxy::testing {

class ApplyRecorder {
 public:
  using Check = std::function<absl::Status(const XdsResources&)>;

  absl::Status Apply(const XdsResources& set) {
    std::lock_guard lock(mu_);
    ++calls_;
    if (check_) {
      absl::Status status = check_(set);
      if (!status.ok()) return status;
    }
    applied_.push_back(set);
    return absl::OkStatus();
  }
  std::function<absl::Status(const XdsResources&)> Fn() {
    return [this](const XdsResources& set) { return Apply(set); };
  }

  // Sets accepted so far.
  size_t count() const {
    std::lock_guard lock(mu_);
    return applied_.size();
  }
  // Calls, failed ones included.
  size_t calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  XdsResources last() const {
    std::lock_guard lock(mu_);
    return applied_.empty() ? XdsResources{} : applied_.back();
  }
  void FailWhen(Check check) {
    std::lock_guard lock(mu_);
    check_ = std::move(check);
  }

 private:
  mutable std::mutex mu_;
  Check check_;
  std::vector<XdsResources> applied_;
  size_t calls_ = 0;
};

}  // namespace causeway::proxy::testing
