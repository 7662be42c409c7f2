// The Echo service talked to directly: every kind of RPC, 4 MiB messages,
// delays against deadlines, bad fields, and the server as its own process.
#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "echo_client.h"
#include "echo_server.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "support/process.h"

namespace causeway::testing::grpc_echo {
namespace {

using causeway::test::EchoReply;
using causeway::test::EchoRequest;
using ::testing::HasSubstr;

constexpr size_t kFourMiB = 4 << 20;

class GrpcEchoDirectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = EchoServer::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    ASSERT_GT(server_->port(), 0);
  }

  std::unique_ptr<EchoServer> server_;
};

TEST_F(GrpcEchoDirectTest, UnaryEchoesThePayloadOrSendsReplySizeBytes) {
  EchoClient client(EchoChannel(server_->target()));
  auto echoed = client.Unary(MakeEchoRequest(100));
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(echoed->payload(), std::string(100, 'p'));
  EXPECT_EQ(echoed->total_bytes(), 100);

  auto sized = client.Unary(MakeEchoRequest(3, 0, 1000));
  ASSERT_TRUE(sized.ok()) << sized.status();
  EXPECT_EQ(sized->payload().size(), 1000u);
  EXPECT_EQ(sized->total_bytes(), 3);
}

TEST_F(GrpcEchoDirectTest, ServerStreamSendsCountRepliesInOrder) {
  EchoClient client(EchoChannel(server_->target()));
  auto replies = client.ServerStream(MakeEchoRequest(1, 25, 512));
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 25u);
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ((*replies)[i].index(), i);
    EXPECT_EQ((*replies)[i].payload().size(), 512u);
  }
  auto none = client.ServerStream(MakeEchoRequest(1, 0));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

TEST_F(GrpcEchoDirectTest, ClientStreamCountsRequestsAndTheirBytes) {
  EchoClient client(EchoChannel(server_->target()));
  std::vector<EchoRequest> requests;
  for (size_t size : {10, 200, 3000}) requests.push_back(MakeEchoRequest(size));
  auto reply = client.ClientStream(requests);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->count(), 3);
  EXPECT_EQ(reply->total_bytes(), 3210);
}

TEST_F(GrpcEchoDirectTest, BidiEchoesEachMessage) {
  EchoClient client(EchoChannel(server_->target()));
  std::vector<EchoRequest> requests;
  for (int i = 1; i <= 5; ++i) requests.push_back(MakeEchoRequest(static_cast<size_t>(i) * 7));
  auto replies = client.Bidi(requests);
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*replies)[i].payload(), requests[i].payload());
}

TEST_F(GrpcEchoDirectTest, FourMiBMessagesGoBothWaysInEveryKind) {
  EchoClient client(EchoChannel(server_->target()));
  auto unary = client.Unary(MakeEchoRequest(kFourMiB));
  ASSERT_TRUE(unary.ok()) << unary.status();
  EXPECT_EQ(unary->payload().size(), kFourMiB);

  auto streamed = client.ServerStream(MakeEchoRequest(0, 2, static_cast<int32_t>(kFourMiB)));
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  ASSERT_EQ(streamed->size(), 2u);
  EXPECT_EQ((*streamed)[1].payload().size(), kFourMiB);

  auto counted = client.ClientStream({MakeEchoRequest(kFourMiB), MakeEchoRequest(kFourMiB)});
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->total_bytes(), static_cast<int64_t>(2 * kFourMiB));

  auto bidi = client.Bidi({MakeEchoRequest(kFourMiB)});
  ASSERT_TRUE(bidi.ok()) << bidi.status();
  ASSERT_EQ(bidi->size(), 1u);
  EXPECT_EQ((*bidi)[0].payload().size(), kFourMiB);
}

TEST_F(GrpcEchoDirectTest, AClientWithDefaultLimitsRefusesAFourMiBReply) {
  // Shows the raised limits are what carries the test above.
  EchoClient client(grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials()));
  auto reply = client.Unary(MakeEchoRequest(1, 0, static_cast<int32_t>(kFourMiB)));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kResourceExhausted) << reply.status();
}

TEST_F(GrpcEchoDirectTest, DelayMsRunsIntoTheCallersDeadline) {
  EchoClient client(EchoChannel(server_->target()), std::chrono::milliseconds(200));
  auto reply = client.Unary(MakeEchoRequest(1, 0, 0, 60'000));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded) << reply.status();

  EchoClient patient(EchoChannel(server_->target()), std::chrono::seconds(30));
  auto waited = patient.Unary(MakeEchoRequest(1, 0, 0, 50));
  EXPECT_TRUE(waited.ok()) << waited.status();
}

TEST_F(GrpcEchoDirectTest, BadFieldsAreRefusedByName) {
  EchoClient client(EchoChannel(server_->target()));
  auto size = client.Unary(MakeEchoRequest(1, 0, -1));
  EXPECT_EQ(size.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(size.status().message(), HasSubstr("reply_size -1"));
  auto count = client.ServerStream(MakeEchoRequest(1, -3));
  EXPECT_THAT(count.status().message(), HasSubstr("count -3"));
  auto delay = client.Bidi({MakeEchoRequest(1, 0, 0, -5)});
  EXPECT_THAT(delay.status().message(), HasSubstr("delay_ms -5"));
}

// The port the server binary printed, once it has printed a whole line.
int PrintedEchoPort(Subprocess& process) {
  std::string log = process.Log();
  if (log.find('\n') == std::string::npos) return 0;
  int port = 0;
  std::vector<std::string> lines = absl::StrSplit(log, '\n');
  return absl::SimpleAtoi(lines[0], &port) ? port : 0;
}

TEST(GrpcEchoProcessTest, TheBinaryPrintsItsPortServesAndStopsOnSigterm) {
  TempDir dir;
  Subprocess server({.argv = {BuiltBinary("causeway_grpc_echo_server"), "--port", "0"},
                     .log_path = dir.File("echo.log")});
  int port = 0;
  ASSERT_TRUE(
      WaitFor([&] { return (port = PrintedEchoPort(server)) > 0; }, std::chrono::seconds(30)))
      << server.Log();

  EchoClient client(EchoChannel("127.0.0.1:" + std::to_string(port)));
  auto reply = client.Unary(MakeEchoRequest(kFourMiB));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->payload().size(), kFourMiB);

  server.Signal(SIGTERM);
  int status = server.Wait();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(PortOpen(port));
}

TEST(GrpcEchoProcessTest, TheBinaryRefusesAPortOutOfRangeByName) {
  TempDir dir;
  Subprocess server({.argv = {BuiltBinary("causeway_grpc_echo_server"), "--port", "70000"},
                     .log_path = dir.File("echo.log")});
  int status = server.Wait();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_THAT(server.Log(), HasSubstr("--port"));
  EXPECT_THAT(server.Log(), HasSubstr("70000"));
}

}  // namespace
}  // namespace causeway::testing::grpc_echo
