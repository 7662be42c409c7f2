// gRPC clients of the real causeway-proxy binary over HTTP/2: the answers
// the proxy makes itself come as gRPC trailers-only responses that gRPC's
// own client (libgrpc++) reads as a status, and grpc-timeout caps the route
// timeout. The access log keeps the HTTP status and the response flags.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "echo_client.h"
#include "grpcpp/grpcpp.h"
#include "h2_raw_client.h"
#include "scripted_proxy.h"
#include "test_origin.h"

namespace causeway::proxy::testing {
namespace {

using causeway::test::EchoReply;
using causeway::test::EchoRequest;
using ::testing::HasSubstr;
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace)

class GrpcLocalReplyTest : public ::testing::Test {
 protected:
  void TearDown() override {
    origin_.SetDelay(0ms);  // lets go of any response held back
  }

  // Routes for app.test only; `no_endpoints` empties the cluster;
  // `route_timeout_s` 0 leaves the route timeout at its default (15 s).
  void Start(bool no_endpoints = false, int route_timeout_s = 0) {
    ScriptedProxy::Options p;
    p.origin_port = origin_.port();
    p.hcm = [route_timeout_s](ScriptedProxy::Hcm& hcm) {
      auto* vhost = hcm.mutable_route_config()->mutable_virtual_hosts(0);
      vhost->set_domains(0, "app.test");
      if (route_timeout_s > 0) {
        vhost->mutable_routes(0)->mutable_route()->mutable_timeout()->set_seconds(route_timeout_s);
      }
    };
    if (no_endpoints) {
      p.cluster = [](envoy::config::cluster::v3::Cluster& c) {
        c.mutable_load_assignment()->clear_endpoints();
      };
    }
    proxy_ = std::make_unique<ScriptedProxy>(p);
    ASSERT_TRUE(proxy_->Start());
  }

  // gRPC's client over clear-text HTTP/2 to the proxy, naming `authority`.
  grpc::Status Call(const std::string& authority, std::chrono::milliseconds deadline,
                    std::string* message = nullptr) {
    grpc::ChannelArguments args;
    args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, authority);
    auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(proxy_->port()),
                                             grpc::InsecureChannelCredentials(), args);
    auto stub = causeway::test::Echo::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    EchoRequest request;
    request.set_payload("ping");
    EchoReply reply;
    return stub->Unary(&context, request, &reply);
  }

  // A raw gRPC-shaped request with the given grpc-timeout ("" for none);
  // `end` false leaves the request stream open (a client still streaming).
  H2RawClient::Stream RawCall(const std::string& grpc_timeout, bool end = true) {
    H2RawClient client(proxy_->port());
    EXPECT_TRUE(client.ok());
    http2::RequestHead head{"POST",
                            "http",
                            "app.test",
                            "/causeway.test.Echo/Unary",
                            {{"content-type", "application/grpc"}, {"te", "trailers"}}};
    if (!grpc_timeout.empty()) head.headers.push_back({"grpc-timeout", grpc_timeout});
    const int32_t id = client.Open(head, /*end_stream=*/false);
    EXPECT_GT(id, 0) << client.error;
    // One empty message: the 5-byte gRPC frame prefix.
    EXPECT_TRUE(client.Send(id, std::string(5, '\0'), end));
    EXPECT_TRUE(
        client.Until([&] { return client.streams[id].ended || client.streams[id].reset; }, 60s));
    return client.streams[id];
  }

  nlohmann::json EntryFor(const std::string& path) {
    return proxy_->WaitForEntry(
        [&](const nlohmann::json& e) { return e.value("path", "") == path; });
  }

  TestOrigin origin_{"grpc-origin"};
  std::unique_ptr<ScriptedProxy> proxy_;
};

TEST_F(GrpcLocalReplyTest, NoEndpointIsUnavailableWithTheReason) {
  Start(/*no_endpoints=*/true);
  grpc::Status status = Call("app.test", 30s);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(status.error_message(), "no healthy upstream");
  nlohmann::json entry = EntryFor("/causeway.test.Echo/Unary");
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry.value("status", 0), 503);
  EXPECT_EQ(entry.value("flags", ""), "UH");
}

TEST_F(GrpcLocalReplyTest, TrailersOnlyFields) {
  Start(/*no_endpoints=*/true);
  H2RawClient::Stream s = RawCall("");
  ASSERT_TRUE(s.has_head);
  EXPECT_TRUE(s.ended);
  EXPECT_EQ(s.head.status, 200);
  EXPECT_TRUE(s.body.empty());
  EXPECT_TRUE(s.trailers.empty()) << "one HEADERS frame: trailers-only";
  EXPECT_EQ(s.Field("content-type"), "application/grpc");
  EXPECT_EQ(s.Field("grpc-status"), "14");
  EXPECT_EQ(s.Field("grpc-message"), "no healthy upstream");
}

TEST_F(GrpcLocalReplyTest, TrailersOnlyReachesAClientStillSending) {
  Start(/*no_endpoints=*/true);
  // Answered before the request ends: the reply's one HEADERS frame comes
  // before the RST_STREAM that tells the client to stop sending.
  H2RawClient::Stream s = RawCall("", /*end=*/false);
  ASSERT_TRUE(s.has_head);
  EXPECT_EQ(s.head.status, 200);
  EXPECT_EQ(s.Field("grpc-status"), "14");
}

TEST_F(GrpcLocalReplyTest, NoRouteIsUnimplemented) {
  Start();
  grpc::Status status = Call("elsewhere.test", 30s);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
  nlohmann::json entry = EntryFor("/causeway.test.Echo/Unary");
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry.value("status", 0), 404);
}

TEST_F(GrpcLocalReplyTest, RouteTimeoutIsDeadlineExceededFromTheProxy) {
  Start(/*no_endpoints=*/false, /*route_timeout_s=*/1);
  origin_.SetDelay(10min);  // the origin never answers in time
  // The route timeout is far below the client's deadline, so the status
  // comes from the proxy, with its message.
  const auto start = std::chrono::steady_clock::now();
  grpc::Status status = Call("app.test", 120s);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_EQ(status.error_message(), "upstream request timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 100s);
  nlohmann::json entry = EntryFor("/causeway.test.Echo/Unary");
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry.value("status", 0), 504);
  EXPECT_EQ(entry.value("flags", ""), "UT");
}

TEST_F(GrpcLocalReplyTest, GrpcTimeoutCapsTheRouteTimeout) {
  Start();
  origin_.SetDelay(10min);
  // 300 ms against the route's 15 s: the proxy answers at its cap, long
  // before the route timeout; no client-side deadline is involved.
  const auto start = std::chrono::steady_clock::now();
  H2RawClient::Stream s = RawCall("300m");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 14s);
  EXPECT_EQ(s.head.status, 200);
  EXPECT_EQ(s.Field("grpc-status"), "4");
  EXPECT_EQ(s.Field("grpc-message"), "upstream request timeout");
  nlohmann::json entry = EntryFor("/causeway.test.Echo/Unary");
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry.value("status", 0), 504);
  EXPECT_EQ(entry.value("flags", ""), "UT");
}

TEST_F(GrpcLocalReplyTest, GrpcClientDeadlineEndsWithinIt) {
  Start();
  origin_.SetDelay(10min);
  const auto start = std::chrono::steady_clock::now();
  grpc::Status status = Call("app.test", 1500ms);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 12s);
}

TEST_F(GrpcLocalReplyTest, BadGrpcTimeoutIsNamed) {
  Start();
  H2RawClient::Stream s = RawCall("soon");
  EXPECT_EQ(s.head.status, 200);
  EXPECT_EQ(s.Field("grpc-status"), "13");
  EXPECT_THAT(s.Field("grpc-message"), HasSubstr("grpc-timeout \"soon\""));
  nlohmann::json entry = EntryFor("/causeway.test.Echo/Unary");
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry.value("status", 0), 400);
}

TEST_F(GrpcLocalReplyTest, NonGrpcRequestsKeepHttpLocalReplies) {
  Start(/*no_endpoints=*/true);
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  const int32_t id = client.Open({"GET", "http", "app.test", "/plain", {}}, true);
  ASSERT_TRUE(client.Until([&] { return client.streams[id].ended; }));
  EXPECT_EQ(client.streams[id].head.status, 503);
  EXPECT_EQ(client.streams[id].Field("grpc-status"), "");
}

}  // namespace
}  // namespace causeway::proxy::testing
