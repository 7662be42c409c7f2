// gRPC end to end through two real causeway-proxy binaries: a gRPC client
// (gRPC's own C++ library) → a sidecar proxy (its listener takes HTTP/2 in
// clear text) → a front proxy → the Echo server (test/support/grpc) as its
// own process, every hop HTTP/2 (the clusters' HttpProtocolOptions ask for
// it). All four kinds of call, a 4 MiB message each way, a deadline that
// passes while the server waits, and the server killed before it answers
// and in the middle of a stream: the client gets a status each time, never
// a hang.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "echo_client.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "scripted_proxy.h"
#include "support/process.h"

namespace causeway::proxy::testing {
namespace {

using causeway::testing::BuiltBinary;
using causeway::testing::FreePort;
using causeway::testing::PortOpen;
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using causeway::testing::grpc_echo::EchoChannel;
using causeway::testing::grpc_echo::EchoClient;
using causeway::testing::grpc_echo::MakeEchoRequest;

// The cluster speaks HTTP/2 to its endpoint.
void GrpcClusterHttp2(envoy::config::cluster::v3::Cluster& c) {
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
  options.mutable_explicit_http_config()->mutable_http2_protocol_options();
  (*c.mutable_typed_extension_protocol_options())
      ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
          .PackFrom(options);
}

class GrpcThroughProxiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(StartServer());
    ScriptedProxy::Options front;
    front.origin_port = server_port_;
    front.cluster = GrpcClusterHttp2;
    front_ = std::make_unique<ScriptedProxy>(front);
    ASSERT_TRUE(front_->Start());
    ScriptedProxy::Options sidecar;
    sidecar.origin_port = front_->port();
    sidecar.cluster = GrpcClusterHttp2;
    sidecar_ = std::make_unique<ScriptedProxy>(sidecar);
    ASSERT_TRUE(sidecar_->Start());
  }
  void TearDown() override {
    if (HasFailure() && sidecar_ && front_) {
      std::cerr << "--- sidecar ---\n"
                << sidecar_->Log() << "--- front ---\n"
                << front_->Log() << "--- server ---\n"
                << (server_ ? server_->Log() : "");
    }
  }

  bool StartServer() {
    server_port_ = static_cast<uint16_t>(FreePort());
    Subprocess::Options p;
    p.argv = {BuiltBinary("causeway_grpc_echo_server"), "--port", std::to_string(server_port_)};
    p.log_path = dir_.File("echo_server.log");
    server_ = std::make_unique<Subprocess>(p);
    return WaitFor([&] { return PortOpen(server_port_); }, std::chrono::seconds(20));
  }

  EchoClient Client(std::chrono::milliseconds deadline = std::chrono::seconds(60)) {
    return EchoClient(EchoChannel("127.0.0.1:" + std::to_string(sidecar_->port())), deadline);
  }

  TempDir dir_;
  uint16_t server_port_ = 0;
  std::unique_ptr<Subprocess> server_;
  std::unique_ptr<ScriptedProxy> front_;
  std::unique_ptr<ScriptedProxy> sidecar_;
};

TEST_F(GrpcThroughProxiesTest, AllFourKindsOfCall) {
  EchoClient client = Client();
  auto unary = client.Unary(MakeEchoRequest(1000));
  ASSERT_TRUE(unary.ok()) << unary.status();
  EXPECT_EQ(unary->payload().size(), 1000u);

  auto stream = client.ServerStream(MakeEchoRequest(10, /*count=*/5, /*reply_size=*/2000));
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_EQ(stream->size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ((*stream)[i].index(), i);
    EXPECT_EQ((*stream)[i].payload().size(), 2000u);
  }

  std::vector<causeway::test::EchoRequest> requests;
  for (int i = 0; i < 10; ++i) requests.push_back(MakeEchoRequest(100 * (i + 1)));
  auto collected = client.ClientStream(requests);
  ASSERT_TRUE(collected.ok()) << collected.status();
  EXPECT_EQ(collected->count(), 10);
  EXPECT_EQ(collected->total_bytes(), 5500);

  auto bidi = client.Bidi(requests);
  ASSERT_TRUE(bidi.ok()) << bidi.status();
  ASSERT_EQ(bidi->size(), 10u);
  EXPECT_EQ((*bidi)[9].payload().size(), 1000u);
}

TEST_F(GrpcThroughProxiesTest, FourMebibyteMessagesEachWay) {
  EchoClient client = Client();
  constexpr size_t k4MiB = 4 << 20;
  auto up = client.Unary(MakeEchoRequest(k4MiB));
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(up->payload().size(), k4MiB);
  auto down = client.Unary(MakeEchoRequest(1, 0, /*reply_size=*/static_cast<int32_t>(k4MiB)));
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_EQ(down->payload().size(), k4MiB);
}

TEST_F(GrpcThroughProxiesTest, DeadlineExceededWhileTheServerWaits) {
  EchoClient client = Client(std::chrono::milliseconds(500));
  auto slow = client.Unary(MakeEchoRequest(10, 0, 0, /*delay_ms=*/60000));
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded) << slow.status();
  // The client's cancel travels on as RST_STREAM(CANCEL): the front proxy's
  // request to the server ends long before the server would have answered.
  EXPECT_TRUE(WaitFor([&] { return front_->Stat("cluster.origin.upstream_rq_active") == 0; },
                      std::chrono::seconds(20)));
  // The proxies are still fine for the next call.
  auto next = Client().Unary(MakeEchoRequest(10));
  EXPECT_TRUE(next.ok()) << next.status();
}

TEST_F(GrpcThroughProxiesTest, ServerKilledBeforeAnsweringIsUnavailable) {
  EchoClient client = Client();
  // The call is in the server when it dies.
  std::thread killer([&] {
    WaitFor([&] { return front_->Stat("cluster.origin.upstream_rq_active") >= 1; },
            std::chrono::seconds(10));
    server_->Signal(SIGKILL);
  });
  auto call = client.Unary(MakeEchoRequest(10, 0, 0, /*delay_ms=*/30000));
  killer.join();
  EXPECT_EQ(call.status().code(), absl::StatusCode::kUnavailable) << call.status();
}

TEST_F(GrpcThroughProxiesTest, ServerKilledMidStreamEndsTheCall) {
  auto channel = EchoChannel("127.0.0.1:" + std::to_string(sidecar_->port()));
  auto stub = causeway::test::Echo::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  // 100 MB of replies, held back by flow control while the client waits.
  auto reader =
      stub->ServerStream(&context, MakeEchoRequest(1, /*count=*/100000, /*reply_size=*/1000));
  causeway::test::EchoReply reply;
  ASSERT_TRUE(reader->Read(&reply));
  server_->Signal(SIGKILL);
  int read = 1;
  while (reader->Read(&reply)) ++read;
  grpc::Status status = reader->Finish();
  EXPECT_LT(read, 100000);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

}  // namespace
}  // namespace causeway::proxy::testing
