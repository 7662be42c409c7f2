// The Echo service's behaviour (echo.proto says what each RPC does), as a
// synchronous gRPC service: each call holds a server thread, which keeps
// `delay_ms` a plain wait on that thread.
#pragma once

#include <atomic>

#include "echo.grpc.pb.h"

namespace causeway::testing::grpc_echo {

// Bounds on what a request may ask for; larger values are refused with
// INVALID_ARGUMENT naming the field.
inline constexpr int kMaxReplySize = 64 << 20;
inline constexpr int kMaxStreamCount = 10'000'000;
inline constexpr int64_t kMaxDelayMs = 600'000;

class EchoServiceImpl final : public causeway::test::Echo::Service {
 public:
  grpc::Status Unary(grpc::ServerContext* context, const causeway::test::EchoRequest* request,
                     causeway::test::EchoReply* reply) override;
  grpc::Status ServerStream(grpc::ServerContext* context,
                            const causeway::test::EchoRequest* request,
                            grpc::ServerWriter<causeway::test::EchoReply>* writer) override;
  grpc::Status ClientStream(grpc::ServerContext* context,
                            grpc::ServerReader<causeway::test::EchoRequest>* reader,
                            causeway::test::EchoReply* reply) override;
  grpc::Status Bidi(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<causeway::test::EchoReply,
                                             causeway::test::EchoRequest>* stream) override;

  // Ends every pending delay early (the server is stopping).
  void Interrupt() { interrupted_ = true; }

 private:
  // Waits `delay_ms`; false (CANCELLED) if the call was cancelled meanwhile.
  grpc::Status Delay(grpc::ServerContext* context, int64_t delay_ms) const;

  std::atomic<bool> interrupted_{false};
};

// INVALID_ARGUMENT naming the field and value when a request asks for more
// than the bounds above, or for a negative size, count or delay.
grpc::Status ValidateEchoRequest(const causeway::test::EchoRequest& request);

}  // namespace causeway::testing::grpc_echo
