#include "echo_service.h"

#include <chrono>
#include <string>
#include <thread>

namespace causeway::testing::grpc_echo {
namespace {

using causeway::test::EchoReply;
using causeway::test::EchoRequest;

grpc::Status EchoFieldOutOfRange(const char* field, int64_t value, int64_t max) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      std::string(field) + " " + std::to_string(value) +
                          ": must be between 0 and " + std::to_string(max));
}

// The reply to one request as Unary and Bidi answer it.
void FillEchoReply(const EchoRequest& request, EchoReply* reply) {
  if (request.reply_size() > 0) {
    reply->set_payload(std::string(static_cast<size_t>(request.reply_size()), 'e'));
  } else {
    reply->set_payload(request.payload());
  }
  reply->set_count(1);
  reply->set_total_bytes(static_cast<int64_t>(request.payload().size()));
}

}  // namespace

grpc::Status ValidateEchoRequest(const EchoRequest& request) {
  if (request.count() < 0 || request.count() > kMaxStreamCount) {
    return EchoFieldOutOfRange("count", request.count(), kMaxStreamCount);
  }
  if (request.reply_size() < 0 || request.reply_size() > kMaxReplySize) {
    return EchoFieldOutOfRange("reply_size", request.reply_size(), kMaxReplySize);
  }
  if (request.delay_ms() < 0 || request.delay_ms() > kMaxDelayMs) {
    return EchoFieldOutOfRange("delay_ms", request.delay_ms(), kMaxDelayMs);
  }
  return grpc::Status::OK;
}

grpc::Status EchoServiceImpl::Delay(grpc::ServerContext* context, int64_t delay_ms) const {
  if (delay_ms <= 0) return grpc::Status::OK;
  // The delay is what the caller asked the server to do, not a test waiting
  // on a condition: short slices so a cancelled call or a stopping server
  // does not hold its thread for the whole delay.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
  while (std::chrono::steady_clock::now() < until) {
    if (context->IsCancelled() || interrupted_) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled during delay_ms");
    }
    auto left = until - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(5)));
  }
  return grpc::Status::OK;
}

grpc::Status EchoServiceImpl::Unary(grpc::ServerContext* context, const EchoRequest* request,
                                    EchoReply* reply) {
  if (grpc::Status valid = ValidateEchoRequest(*request); !valid.ok()) return valid;
  if (grpc::Status waited = Delay(context, request->delay_ms()); !waited.ok()) return waited;
  FillEchoReply(*request, reply);
  return grpc::Status::OK;
}

grpc::Status EchoServiceImpl::ServerStream(grpc::ServerContext* context, const EchoRequest* request,
                                           grpc::ServerWriter<EchoReply>* writer) {
  if (grpc::Status valid = ValidateEchoRequest(*request); !valid.ok()) return valid;
  if (grpc::Status waited = Delay(context, request->delay_ms()); !waited.ok()) return waited;
  EchoReply reply;
  FillEchoReply(*request, &reply);
  for (int i = 0; i < request->count(); ++i) {
    reply.set_index(i);
    if (!writer->Write(reply)) {
      return grpc::Status(grpc::StatusCode::CANCELLED,
                          "client went away after " + std::to_string(i) + " replies");
    }
  }
  return grpc::Status::OK;
}

grpc::Status EchoServiceImpl::ClientStream(grpc::ServerContext* context,
                                           grpc::ServerReader<EchoRequest>* reader,
                                           EchoReply* reply) {
  EchoRequest request;
  int32_t count = 0;
  int64_t total = 0;
  int64_t delay_ms = 0;
  while (reader->Read(&request)) {
    if (grpc::Status valid = ValidateEchoRequest(request); !valid.ok()) return valid;
    if (count == 0) delay_ms = request.delay_ms();
    ++count;
    total += static_cast<int64_t>(request.payload().size());
  }
  if (grpc::Status waited = Delay(context, delay_ms); !waited.ok()) return waited;
  reply->set_count(count);
  reply->set_total_bytes(total);
  return grpc::Status::OK;
}

grpc::Status EchoServiceImpl::Bidi(grpc::ServerContext* context,
                                   grpc::ServerReaderWriter<EchoReply, EchoRequest>* stream) {
  EchoRequest request;
  EchoReply reply;
  while (stream->Read(&request)) {
    if (grpc::Status valid = ValidateEchoRequest(request); !valid.ok()) return valid;
    if (grpc::Status waited = Delay(context, request.delay_ms()); !waited.ok()) return waited;
    reply.Clear();
    FillEchoReply(request, &reply);
    if (!stream->Write(reply)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    }
  }
  return grpc::Status::OK;
}

}  // namespace causeway::testing::grpc_echo
