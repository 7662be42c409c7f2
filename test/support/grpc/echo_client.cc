#include "echo_client.h"

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"

namespace causeway::testing::grpc_echo {

using causeway::test::EchoReply;
using causeway::test::EchoRequest;

std::shared_ptr<grpc::Channel> EchoChannel(const std::string& target, int max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(max_message_bytes);
  args.SetMaxSendMessageSize(max_message_bytes);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

EchoClient::EchoClient(std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds deadline)
    : stub_(causeway::test::Echo::NewStub(std::move(channel))), deadline_(deadline) {}

void EchoClient::SetDeadline(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() + deadline_);
}

absl::StatusOr<EchoReply> EchoClient::Unary(const EchoRequest& request) {
  grpc::ClientContext context;
  SetDeadline(&context);
  EchoReply reply;
  grpc::Status status = stub_->Unary(&context, request, &reply);
  if (!status.ok()) return FromGrpcStatus(status);
  return reply;
}

absl::StatusOr<std::vector<EchoReply>> EchoClient::ServerStream(const EchoRequest& request) {
  grpc::ClientContext context;
  SetDeadline(&context);
  std::unique_ptr<grpc::ClientReader<EchoReply>> reader = stub_->ServerStream(&context, request);
  std::vector<EchoReply> replies;
  EchoReply reply;
  while (reader->Read(&reply)) replies.push_back(reply);
  grpc::Status status = reader->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  return replies;
}

absl::StatusOr<EchoReply> EchoClient::ClientStream(const std::vector<EchoRequest>& requests) {
  grpc::ClientContext context;
  SetDeadline(&context);
  EchoReply reply;
  std::unique_ptr<grpc::ClientWriter<EchoRequest>> writer = stub_->ClientStream(&context, &reply);
  for (const EchoRequest& request : requests) {
    if (!writer->Write(request)) break;  // Finish() says why
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  return reply;
}

absl::StatusOr<std::vector<EchoReply>> EchoClient::Bidi(const std::vector<EchoRequest>& requests) {
  grpc::ClientContext context;
  SetDeadline(&context);
  auto stream = stub_->Bidi(&context);
  std::vector<EchoReply> replies;
  EchoReply reply;
  for (const EchoRequest& request : requests) {
    if (!stream->Write(request) || !stream->Read(&reply)) break;  // Finish() says why
    replies.push_back(reply);
  }
  stream->WritesDone();
  while (stream->Read(&reply)) replies.push_back(reply);
  grpc::Status status = stream->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  return replies;
}

EchoRequest MakeEchoRequest(size_t payload_bytes, int32_t count, int32_t reply_size,
                            int64_t delay_ms) {
  EchoRequest request;
  request.set_payload(std::string(payload_bytes, 'p'));
  request.set_count(count);
  request.set_reply_size(reply_size);
  request.set_delay_ms(delay_ms);
  return request;
}

}  // namespace causeway::testing::grpc_echo
