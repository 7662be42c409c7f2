// Idle clients of the hub's xDS port, cheap enough to hold ten thousand:
// HTTP/2 connections that finished the connection preface and opened no
// stream, and ADS streams that sent one request and nothing after.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace causeway::testing {

// A loopback TCP connection to `port` on which the HTTP/2 connection
// preface has been exchanged both ways (client preface and SETTINGS sent,
// the server's SETTINGS received and acknowledged, by nghttp2), then left
// alone: what a gRPC client holds between calls.
class IdleH2Connection {
 public:
  explicit IdleH2Connection(int port);
  ~IdleH2Connection();
  IdleH2Connection(const IdleH2Connection&) = delete;
  IdleH2Connection& operator=(const IdleH2Connection&) = delete;
  // Empty when the preface was exchanged; else what went wrong.
  const std::string& error() const { return error_; }

 private:
  std::string Handshake();
  int fd_ = -1;
  std::string error_;
};

// `count` state-of-the-world ADS streams spread over `channels` HTTP/2
// connections, each stream having sent one request (LDS, wildcard) from its
// own node of `zone`, and nothing after; responses are never read. Driven on
// gRPC's async API from the caller's thread, so no thread per stream.
class IdleAdsStreams {
 public:
  IdleAdsStreams(int xds_port, int channels);
  ~IdleAdsStreams();
  IdleAdsStreams(const IdleAdsStreams&) = delete;
  IdleAdsStreams& operator=(const IdleAdsStreams&) = delete;

  // Opens `count` more streams and waits until each request is written.
  // False (with `error` set) if one fails or `deadline` passes.
  bool Open(int count, const std::string& zone, std::chrono::seconds deadline);
  int open() const { return static_cast<int>(streams_.size()); }
  const std::string& error() const { return error_; }

  // The request a stream of node `id` of `zone` sends first.
  static envoy::service::discovery::v3::DiscoveryRequest FirstRequest(const std::string& id,
                                                                      const std::string& zone);
  // A new connection (its own subchannel) to the xDS port.
  static std::shared_ptr<grpc::Channel> NewChannel(int xds_port);

 private:
  struct Stream;
  bool Drive(int pending, std::chrono::system_clock::time_point deadline);

  std::vector<std::unique_ptr<envoy::service::discovery::v3::AggregatedDiscoveryService::Stub>>
      stubs_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  grpc::CompletionQueue cq_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::string error_;
};

}  // namespace causeway::testing
