#include "support/proxy/fake_ads_server.h"

#include <grpcpp/grpcpp.h>

#include <vector>

#include "support/process.h"

namespace causeway::proxy::testing {

using envoy::service::discovery::v3::AggregatedDiscoveryService;

class FakeAdsServer::Service final : public AggregatedDiscoveryService::Service {
 public:
  grpc::Status StreamAggregatedResources(
      grpc::ServerContext* context, grpc::ServerReaderWriter<Response, Request>* stream) override {
    {
      std::lock_guard lock(write_mu_);
      current_ = stream;
    }
    {
      std::lock_guard lock(mu_);
      ++streams_;
      open_ = true;
    }
    Request request;
    while (stream->Read(&request)) {
      std::lock_guard lock(mu_);
      queue_.push_back(request);
      cv_.notify_all();
    }
    {
      std::lock_guard lock(write_mu_);
      if (current_ == stream) current_ = nullptr;
    }
    std::lock_guard lock(mu_);
    open_ = false;
    return grpc::Status::OK;
  }

  std::optional<Request> Next(std::string_view type_url, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    std::optional<Request> found;
    cv_.wait_for(lock, timeout, [&] {
      for (auto it = queue_.begin(); it != queue_.end(); ++it) {
        if (it->type_url() == type_url) {
          found = std::move(*it);
          queue_.erase(it);
          return true;
        }
      }
      return false;
    });
    return found;
  }

  size_t Queued(std::string_view type_url) const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& request : queue_) n += request.type_url() == type_url;
    return n;
  }

  void ClearQueues() {
    std::lock_guard lock(mu_);
    queue_.clear();
  }

  bool Send(const Response& response) {
    std::lock_guard lock(write_mu_);
    return current_ != nullptr && current_->Write(response);
  }

  int streams() const {
    std::lock_guard lock(mu_);
    return streams_;
  }
  bool open() const {
    std::lock_guard lock(mu_);
    return open_;
  }

 private:
  // Writes hold write_mu_ so the stream cannot end under them.
  std::mutex write_mu_;
  grpc::ServerReaderWriter<Response, Request>* current_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;
  int streams_ = 0;
  bool open_ = false;
};

FakeAdsServer::FakeAdsServer(int port)
    : port_(port != 0 ? port : causeway::testing::FreePort()),
      service_(std::make_unique<Service>()) {}

FakeAdsServer::~FakeAdsServer() { Stop(); }

std::string FakeAdsServer::address() const { return "127.0.0.1:" + std::to_string(port_); }

void FakeAdsServer::Start() {
  if (server_ != nullptr) return;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address(), grpc::InsecureServerCredentials());
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
}

void FakeAdsServer::Stop() {
  if (server_ == nullptr) return;
  // A deadline of now cancels the open stream instead of waiting for it.
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
  server_.reset();
}

std::optional<FakeAdsServer::Request> FakeAdsServer::Next(std::string_view type_url,
                                                          std::chrono::milliseconds timeout) {
  return service_->Next(type_url, timeout);
}

size_t FakeAdsServer::Queued(std::string_view type_url) const { return service_->Queued(type_url); }

void FakeAdsServer::ClearQueues() { service_->ClearQueues(); }

bool FakeAdsServer::Send(const Response& response) { return service_->Send(response); }

int FakeAdsServer::streams() const { return service_->streams(); }

bool FakeAdsServer::stream_open() const { return service_->open(); }

}  // namespace causeway::proxy::testing
