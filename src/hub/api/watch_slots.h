// How many /v1/watch streams each token holds open, with a bound: a client
// (or a leaked loop) opening stream after stream with one token gets 429
// instead of holding a hub thread's share and a catalog subscription each.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace causeway::hub::api {

class WatchSlots {
 public:
  // Open streams per token at most; the console holds one per open page,
  // the CLI and agents one each.
  static constexpr int kPerToken = 32;

  // A slot for one stream of `token`, released when the last copy of the
  // returned pointer goes; null when the token already holds kPerToken.
  std::shared_ptr<void> Acquire(const std::string& token);
  int open(const std::string& token) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> open_;  // only tokens with open streams
};

}  // namespace causeway::hub::api
