// A small blocking client of the Echo service (echo.proto), with the message
// size limits raised as the server raises them.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "echo.grpc.pb.h"

namespace causeway::testing::grpc_echo {

// A clear-text (h2c) channel to `target` (host:port) that sends and receives
// messages up to `max_message_bytes`.
std::shared_ptr<grpc::Channel> EchoChannel(const std::string& target,
                                           int max_message_bytes = 64 << 20);

// gRPC's status as absl's (the codes are the same numbers).
absl::Status FromGrpcStatus(const grpc::Status& status);

class EchoClient {
 public:
  explicit EchoClient(std::shared_ptr<grpc::Channel> channel,
                      std::chrono::milliseconds deadline = std::chrono::seconds(30));

  absl::StatusOr<causeway::test::EchoReply> Unary(const causeway::test::EchoRequest& request);
  // Every reply of one ServerStream call, in order.
  absl::StatusOr<std::vector<causeway::test::EchoReply>> ServerStream(
      const causeway::test::EchoRequest& request);
  absl::StatusOr<causeway::test::EchoReply> ClientStream(
      const std::vector<causeway::test::EchoRequest>& requests);
  // Sends each request and reads its reply before sending the next.
  absl::StatusOr<std::vector<causeway::test::EchoReply>> Bidi(
      const std::vector<causeway::test::EchoRequest>& requests);

  causeway::test::Echo::Stub& stub() { return *stub_; }

 private:
  void SetDeadline(grpc::ClientContext* context) const;

  std::unique_ptr<causeway::test::Echo::Stub> stub_;
  std::chrono::milliseconds deadline_;
};

// A request with `payload_bytes` bytes of payload and the given fields.
causeway::test::EchoRequest MakeEchoRequest(size_t payload_bytes, int32_t count = 0,
                                            int32_t reply_size = 0, int64_t delay_ms = 0);

}  // namespace causeway::testing::grpc_echo
