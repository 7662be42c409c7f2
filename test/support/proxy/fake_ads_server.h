// A scripted ADS server for tests of xDS clients: it records every request
// and sends only what the test tells it to, so a test can check the client's
// side of the protocol step by step. The real server is tested in src/xds.
#pragma once

#include <grpcpp/server.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace causeway::proxy::testing {

class FakeAdsServer {
 public:
  using Request = envoy::service::discovery::v3::DiscoveryRequest;
  using Response = envoy::service::discovery::v3::DiscoveryResponse;

  // Listens on 127.0.0.1:`port` (0: a free port chosen now) once Start()ed.
  explicit FakeAdsServer(int port = 0);
  ~FakeAdsServer();
  FakeAdsServer(const FakeAdsServer&) = delete;
  FakeAdsServer& operator=(const FakeAdsServer&) = delete;

  void Start();
  // Stops listening and ends the open stream; the port can be Start()ed again.
  void Stop();

  int port() const { return port_; }
  std::string address() const;

  // The next request of `type_url` not returned yet (on any stream), waiting
  // up to `timeout`; nullopt if none came.
  std::optional<Request> Next(std::string_view type_url,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Number of requests of `type_url` received and not yet returned by Next.
  size_t Queued(std::string_view type_url) const;
  // Drops all queued requests.
  void ClearQueues();

  // Sends on the open stream; false when there is none.
  bool Send(const Response& response);
  // Streams opened so far; whether one is open now.
  int streams() const;
  bool stream_open() const;

 private:
  class Service;

  int port_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace causeway::proxy::testing
