#include "proxy/upstream/http2_pool.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

namespace causeway::proxy {
namespace asio = boost::asio;

Http2Pool::~Http2Pool() { Clear(); }

std::shared_ptr<Http2Connection> Http2Pool::WithRoom(Connections& list) {
  std::erase_if(list, [](const std::shared_ptr<Http2Connection>& c) { return c->Finished(); });
  for (const auto& c : list) {
    if (c->HasRoom()) return c;
  }
  return nullptr;
}

asio::awaitable<absl::StatusOr<std::unique_ptr<Http2UpstreamStream>>> Http2Pool::Acquire(
    const Endpoint& endpoint, std::chrono::milliseconds timeout,
    std::shared_ptr<const UpstreamTls> tls, uint32_t cap) {
  const std::string key = PoolKey(endpoint, tls.get());
  Connections& list = endpoints_[key];
  std::shared_ptr<Http2Connection> conn = WithRoom(list);
  if (conn == nullptr) {
    auto ex = co_await asio::this_coro::executor;
    conn = std::make_shared<Http2Connection>(ex, key, cap);
    list.push_back(conn);
    asio::co_spawn(ex, conn->Connect(endpoint, timeout, std::move(tls)), asio::detached);
  }
  // The slot is held while the connection opens, so requests arriving
  // meanwhile count against its streams.
  auto stream = std::make_unique<Http2UpstreamStream>(conn);
  absl::Status ready = co_await conn->Ready();
  if (!ready.ok()) co_return ready;
  co_return stream;
}

std::unique_ptr<Http2UpstreamStream> Http2Pool::TakeReady(const std::string& key) {
  auto it = endpoints_.find(key);
  if (it == endpoints_.end()) return nullptr;
  std::shared_ptr<Http2Connection> conn = WithRoom(it->second);
  if (conn == nullptr || conn->transport() == nullptr) return nullptr;
  return std::make_unique<Http2UpstreamStream>(conn);
}

std::unique_ptr<Http2UpstreamStream> Http2Pool::Adopt(std::unique_ptr<UpstreamConnection> transport,
                                                      uint32_t cap) {
  auto conn =
      std::make_shared<Http2Connection>(transport->socket.get_executor(), transport->key, cap);
  endpoints_[transport->key].push_back(conn);
  conn->Adopt(std::move(transport));
  return std::make_unique<Http2UpstreamStream>(conn);
}

void Http2Pool::Clear() {
  for (auto& [key, list] : endpoints_) {
    for (auto& conn : list) conn->Close();
  }
  endpoints_.clear();
}

void Http2Pool::Drain() {
  for (auto& [key, list] : endpoints_) {
    for (auto& conn : list) conn->Retire();
  }
  endpoints_.clear();
}

size_t Http2Pool::ConnectionCount(const std::string& key) const {
  auto it = endpoints_.find(key);
  return it == endpoints_.end() ? 0 : it->second.size();
}

}  // namespace causeway::proxy
