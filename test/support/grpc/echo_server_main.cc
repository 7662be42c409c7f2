// causeway_grpc_echo_server: the Echo service (echo.proto) as a process of its
// own, so tests and benchmarks can run it as a real origin and kill it. It
// prints the port it listens on, then serves until SIGTERM or SIGINT.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "echo_server.h"

namespace {

// Blocks SIGTERM and SIGINT in every thread (gRPC's threads inherit the
// mask), so the main thread can take them with sigwait.
sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "gRPC Echo service (causeway.test.Echo) in clear text (h2c), for tests and "
      "benchmarks. Prints the port when ready; serves until SIGTERM or SIGINT."};
  int port = 0;
  std::string host = "127.0.0.1";
  causeway::testing::grpc_echo::EchoServer::Options options;
  app.add_option("--port", port, "port to listen on; 0 picks a free one (printed on stdout)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--host", host, "address to listen on")->capture_default_str();
  app.add_option("--max-message-bytes", options.max_message_bytes,
                 "largest message sent or received")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  sigset_t stop_signals = BlockStopSignals();
  options.address = host + ":" + std::to_string(port);
  auto server = causeway::testing::grpc_echo::EchoServer::Start(options);
  if (!server.ok()) {
    std::cerr << server.status().message() << "\n";
    return 1;
  }
  std::cout << (*server)->port() << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  (*server)->Stop();
  return 0;
}
