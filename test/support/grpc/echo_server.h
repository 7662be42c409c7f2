// An in-process Echo server (echo.proto) in clear text (h2c), for tests and
// benchmarks that need a gRPC origin.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "echo_service.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace causeway::testing::grpc_echo {

// gRPC's default limit is 4 MiB received; both sides raise it so tests can
// send messages of that size and more.
inline constexpr int kMaxMessageBytes = 64 << 20;

class EchoServer {
 public:
  struct Options {
    // host:port; port 0 lets the kernel choose (port() tells which).
    std::string address = "127.0.0.1:0";
    int max_message_bytes = kMaxMessageBytes;
  };

  // Listening when it returns; an error names the address that failed.
  static absl::StatusOr<std::unique_ptr<EchoServer>> Start(const Options& options);
  static absl::StatusOr<std::unique_ptr<EchoServer>> Start() { return Start(Options{}); }
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  int port() const { return port_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  // Stops accepting and ends the calls in flight; safe to call twice.
  void Stop();
  // Blocks until Stop() (from another thread) has finished.
  void Wait();

 private:
  EchoServer() = default;

  EchoServiceImpl service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace causeway::testing::grpc_echo
