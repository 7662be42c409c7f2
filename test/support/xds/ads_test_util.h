// Test harness for the ADS server: a real Catalog over a SQLite store in a
// temporary directory, an XdsServer on a free loopback port, and raw ADS
// streams (gRPC's generated client stubs) whose responses are read by a
// background thread and awaited with deadlines.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "gtest/gtest.h"
#include "model/objects.h"
#include "store/store.h"
#include "support/process.h"
#include "xds/server.h"

namespace causeway::xds::testing {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

inline constexpr char kLds[] = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr char kRds[] = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr char kCds[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr char kEds[] = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

// How long a test waits to conclude that the server sends nothing: several
// debounce periods of the fixture's server.
inline constexpr auto kQuiet = std::chrono::milliseconds(300);

// One raw ADS stream of either variant.
template <typename Request, typename Response>
class RawStream {
 public:
  // `metadata`: sent with the call (e.g. {"authorization", "Bearer ..."}).
  explicit RawStream(AggregatedDiscoveryService::Stub* stub,
                     const std::multimap<std::string, std::string>& metadata = {}) {
    for (const auto& [key, value] : metadata) context_.AddMetadata(key, value);
    if constexpr (std::is_same_v<Request, DeltaDiscoveryRequest>) {
      stream_ = stub->DeltaAggregatedResources(&context_);
    } else {
      stream_ = stub->StreamAggregatedResources(&context_);
    }
    reader_ = std::thread([this] {
      Response response;
      while (stream_->Read(&response)) {
        std::lock_guard lock(mu_);
        received_.push_back(response);
        cv_.notify_all();
      }
      grpc::Status status = stream_->Finish();
      std::lock_guard lock(mu_);
      status_ = status;
      cv_.notify_all();
    });
  }
  ~RawStream() {
    context_.TryCancel();
    reader_.join();
  }

  bool Send(const Request& request) { return stream_->Write(request); }

  // The next response, or nullopt after `timeout`.
  std::optional<Response> Next(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return !received_.empty() || status_; })) {
      return std::nullopt;
    }
    if (received_.empty()) return std::nullopt;
    Response r = std::move(received_.front());
    received_.pop_front();
    return r;
  }

  // True when nothing arrives within `quiet`.
  bool Silent(std::chrono::milliseconds quiet = kQuiet) { return !Next(quiet).has_value(); }

  // The status the server ended the stream with, or nullopt if still open.
  std::optional<grpc::Status> WaitEnd(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return status_.has_value(); });
    return status_;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> stream_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Response> received_;
  std::optional<grpc::Status> status_;
};

using SotwStream = RawStream<DiscoveryRequest, DiscoveryResponse>;
using DeltaStream = RawStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

inline void SetNode(envoy::config::core::v3::Node* node, const std::string& proxy,
                    const std::string& zone, const std::string& id = "instance-1") {
  node->set_id(id);
  node->set_cluster(proxy);
  node->mutable_locality()->set_zone(zone);
}

inline DiscoveryRequest Req(const std::string& type_url, std::vector<std::string> names = {},
                            const std::string& version = "", const std::string& nonce = "") {
  DiscoveryRequest r;
  r.set_type_url(type_url);
  for (auto& n : names) r.add_resource_names(n);
  r.set_version_info(version);
  r.set_response_nonce(nonce);
  return r;
}

// The ACK of `response` for a subscription to `names`.
inline DiscoveryRequest Ack(const DiscoveryResponse& response,
                            std::vector<std::string> names = {}) {
  return Req(response.type_url(), std::move(names), response.version_info(), response.nonce());
}

inline DiscoveryRequest Nack(const DiscoveryResponse& response, const std::string& last_good,
                             const std::string& message, std::vector<std::string> names = {}) {
  DiscoveryRequest r = Req(response.type_url(), std::move(names), last_good, response.nonce());
  r.mutable_error_detail()->set_code(3);
  r.mutable_error_detail()->set_message(message);
  return r;
}

inline DeltaDiscoveryRequest DeltaReq(const std::string& type_url,
                                      std::vector<std::string> subscribe = {},
                                      std::vector<std::string> unsubscribe = {},
                                      const std::string& nonce = "") {
  DeltaDiscoveryRequest r;
  r.set_type_url(type_url);
  for (auto& n : subscribe) r.add_resource_names_subscribe(n);
  for (auto& n : unsubscribe) r.add_resource_names_unsubscribe(n);
  r.set_response_nonce(nonce);
  return r;
}

inline DeltaDiscoveryRequest DeltaAck(const DeltaDiscoveryResponse& response) {
  return DeltaReq(response.type_url(), {}, {}, response.nonce());
}

// Names of the resources in a response (by unpacking each Any's name field).
std::vector<std::string> Names(const DiscoveryResponse& response);
std::vector<std::string> Names(const DeltaDiscoveryResponse& response);
std::vector<std::string> Removed(const DeltaDiscoveryResponse& response);

// A hub with zone "z": proxy "front" serving domain "api.svc:80" whose route
// "/" goes to route group "rg" -> cluster "blue" (one instance); cluster
// "green" exists but is unused.
class AdsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Hooks for fixtures that serve differently (TLS, tokens): the server's
  // options, and the credentials the test's channel dials with.
  virtual void AdjustOptions(XdsServer::Options*) {}
  virtual std::shared_ptr<grpc::ChannelCredentials> ClientCredentials() {
    return grpc::InsecureChannelCredentials();
  }

  // Writes objects (JSON documents with "kind" and "name") into zone "z".
  void Upsert(model::Kind kind, const std::string& name, const model::Json& body);
  void Delete(model::Kind kind, const std::string& name);

  std::unique_ptr<SotwStream> OpenSotw() { return std::make_unique<SotwStream>(stub_.get()); }
  std::unique_ptr<DeltaStream> OpenDelta() { return std::make_unique<DeltaStream>(stub_.get()); }

  // The first request of a stream (with the node).
  DiscoveryRequest First(const std::string& type_url, std::vector<std::string> names = {},
                         const std::string& proxy = "front") {
    DiscoveryRequest r = Req(type_url, std::move(names));
    SetNode(r.mutable_node(), proxy, "z");
    return r;
  }
  DeltaDiscoveryRequest DeltaFirst(const std::string& type_url,
                                   std::vector<std::string> subscribe = {},
                                   const std::string& proxy = "front") {
    DeltaDiscoveryRequest r = DeltaReq(type_url, std::move(subscribe));
    SetNode(r.mutable_node(), proxy, "z");
    return r;
  }

  // Sets route group "rg"'s default target to `cluster`.
  void PointGroupAt(const std::string& cluster);
  // Replaces the instances of `cluster`.
  void SetInstances(const std::string& cluster, const std::vector<std::string>& hosts);

  ::causeway::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<XdsServer> server_;
  std::string address_;  // the server's, "127.0.0.1:PORT"
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<AggregatedDiscoveryService::Stub> stub_;
};

}  // namespace causeway::xds::testing
