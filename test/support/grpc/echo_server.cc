#include "echo_server.h"

#include <chrono>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"

namespace causeway::testing::grpc_echo {

absl::StatusOr<std::unique_ptr<EchoServer>> EchoServer::Start(const Options& options) {
  std::unique_ptr<EchoServer> server(new EchoServer());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(), &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(&server->service_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError("echo server: cannot listen on " + options.address);
  }
  return server;
}

EchoServer::~EchoServer() { Stop(); }

void EchoServer::Stop() {
  if (server_ == nullptr) return;
  service_.Interrupt();
  // A short grace for calls in flight; then they are cancelled.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

void EchoServer::Wait() {
  if (server_ != nullptr) server_->Wait();
}

}  // namespace causeway::testing::grpc_echo
