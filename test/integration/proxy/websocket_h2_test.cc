// WebSocket over HTTP/2 (RFC 8441) through the real causeway-proxy binary:
// an extended CONNECT from the project's client codec reaches a WebSocket
// echo origin (h2_features_origin.py, which checks the HTTP/1.1 handshake)
// as an upgrade, and masked frames go through the stream both ways, more
// than a window's worth included. An answer other than 101 is passed on;
// WebSocket over HTTP/1.1 to the same origin still works.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/escaping.h"
#include "h2_features_origin.h"
#include "h2_raw_client.h"
#include "scripted_proxy.h"
#include "test_origin.h"

namespace causeway::proxy::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace)

// A client frame (RFC 6455 5.2): FIN, `opcode`, masked with a fixed key.
std::string WsClientFrame(uint8_t opcode, const std::string& payload) {
  std::string f(1, static_cast<char>(0x80 | opcode));
  const uint64_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n < 65536) {
    f.push_back(static_cast<char>(0x80 | 126));
    for (int shift : {8, 0}) f.push_back(static_cast<char>((n >> shift) & 0xff));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      f.push_back(static_cast<char>((n >> shift) & 0xff));
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  f.append(mask, 4);
  for (size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}

struct WsServerFrame {
  uint8_t opcode = 0;
  std::string payload;
};

// The first whole server frame (unmasked) in `bytes`, consumed from it.
std::optional<WsServerFrame> TakeWsServerFrame(std::string& bytes) {
  if (bytes.size() < 2) return std::nullopt;
  const auto b = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  uint64_t n = b(1) & 0x7f;
  size_t at = 2;
  if (n == 126 || n == 127) {
    const size_t width = n == 126 ? 2 : 8;
    if (bytes.size() < at + width) return std::nullopt;
    n = 0;
    for (size_t i = 0; i < width; ++i) n = (n << 8) | b(at + i);
    at += width;
  }
  if (bytes.size() < at + n) return std::nullopt;
  WsServerFrame frame{static_cast<uint8_t>(b(0) & 0x0f), bytes.substr(at, n)};
  bytes.erase(0, at + n);
  return frame;
}

class WebSocketH2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(origin_.port(), 0) << origin_.Log();
    StartProxy(0);
  }
  // `idle_timeout_ms` 0: the listener's stream idle timeout is not set.
  void StartProxy(int idle_timeout_ms) {
    ScriptedProxy::Options p;
    p.origin_port = origin_.port();
    p.hcm = [idle_timeout_ms](ScriptedProxy::Hcm& hcm) {
      if (idle_timeout_ms > 0) {
        hcm.mutable_stream_idle_timeout()->set_nanos(idle_timeout_ms * 1000000);
      }
    };
    proxy_.reset();
    proxy_ = std::make_unique<ScriptedProxy>(p);
    ASSERT_TRUE(proxy_->Start());
  }
  // Exchanges frames until the access log has the tunnel's line.
  nlohmann::json TunnelEntry(H2RawClient& client) {
    const auto logged = [](const nlohmann::json& e) {
      return e.value("path", "") == "/ws" && e.value("protocol", "") == "HTTP/2";
    };
    client.Until([&] {
      for (const nlohmann::json& e : proxy_->AccessLog()) {
        if (logged(e)) return true;
      }
      return false;
    });
    return proxy_->WaitForEntry(logged);
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "--- origin log ---\n" << origin_.Log();
  }

  // Opens an extended CONNECT once the proxy's SETTINGS allowed it.
  int32_t OpenWebSocket(H2RawClient& client, const std::string& path,
                        http2::HeaderList headers = {{"sec-websocket-version", "13"}}) {
    http2::RequestHead head{"CONNECT", "http", "app.test", path, std::move(headers), "websocket"};
    int32_t id = -1;
    client.Until(
        [&] {
          id = client.Open(head, /*end_stream=*/false);
          return id > 0;
        },
        30s);
    return id;
  }

  // Sends one masked frame and reads the echo's frame.
  std::optional<WsServerFrame> Exchange(H2RawClient& client, int32_t id, uint8_t opcode,
                                        const std::string& payload) {
    EXPECT_TRUE(client.Send(id, WsClientFrame(opcode, payload), /*end_stream=*/false));
    std::optional<WsServerFrame> frame;
    client.Until(
        [&] {
          frame = TakeWsServerFrame(client.streams[id].body);
          return frame.has_value() || client.streams[id].ended || client.streams[id].reset;
        },
        60s);
    return frame;
  }

  H2FeaturesOrigin origin_;
  std::unique_ptr<ScriptedProxy> proxy_;
};

TEST_F(WebSocketH2Test, EchoOverAnExtendedConnect) {
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  const int32_t id = OpenWebSocket(
      client, "/ws",
      {{"sec-websocket-version", "13"}, {"sec-websocket-protocol", "chat, superchat"}});
  ASSERT_GT(id, 0) << client.error;
  ASSERT_TRUE(client.Until([&] { return client.streams[id].has_head; }));
  EXPECT_EQ(client.streams[id].head.status, 200);
  EXPECT_EQ(client.streams[id].Field("sec-websocket-protocol"), "chat");
  EXPECT_EQ(client.streams[id].Field("sec-websocket-accept"), "");  // HTTP/1.1's alone

  std::optional<WsServerFrame> echo = Exchange(client, id, 0x1, "hello over h2");
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->opcode, 0x1);
  EXPECT_EQ(echo->payload, "hello over h2");

  // Four windows' worth (65535 bytes each) in one binary frame: both
  // directions wait for the windows instead of failing or buffering.
  std::string big(256 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  echo = Exchange(client, id, 0x2, big);
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->opcode, 0x2);
  EXPECT_TRUE(echo->payload == big) << "echo of " << echo->payload.size() << " bytes differs";

  // Close: the origin answers and closes its connection, which ends the
  // stream; the client's END_STREAM ends the other half.
  echo = Exchange(client, id, 0x8, std::string("\x03\xe8", 2));
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->opcode, 0x8);
  ASSERT_TRUE(client.Until([&] { return client.streams[id].ended; }));
  EXPECT_FALSE(client.streams[id].reset);
  EXPECT_TRUE(client.Send(id, "", /*end_stream=*/true));
  // The tunnel ends (and is logged) once the client's END_STREAM is out.
  nlohmann::json entry = TunnelEntry(client);
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry.value("status", 0), 200);
  EXPECT_EQ(entry.value("flags", "?"), "");
  EXPECT_GT(entry.value("bytes_received", 0), 256 * 1024);
  EXPECT_GT(entry.value("bytes_sent", 0), 256 * 1024);
}

TEST_F(WebSocketH2Test, ClientResetEndsTheTunnel) {
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  const int32_t id = OpenWebSocket(client, "/ws");
  ASSERT_GT(id, 0) << client.error;
  ASSERT_TRUE(Exchange(client, id, 0x1, "before the reset").has_value());
  ASSERT_TRUE(client.codec().SubmitReset(id, http2::kCancel).ok());
  nlohmann::json entry = TunnelEntry(client);
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry.value("flags", ""), "DC");
  // The connection serves on.
  const int32_t next = OpenWebSocket(client, "/ws");
  ASSERT_GT(next, 0) << client.error;
  std::optional<WsServerFrame> echo = Exchange(client, next, 0x1, "after");
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->payload, "after");
}

TEST_F(WebSocketH2Test, IdleTunnelEndsAtTheStreamIdleTimeout) {
  StartProxy(/*idle_timeout_ms=*/500);
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  const int32_t id = OpenWebSocket(client, "/ws");
  ASSERT_GT(id, 0) << client.error;
  // Neither side sends: the proxy answers 200, then resets the stream.
  ASSERT_TRUE(client.Until([&] { return client.streams[id].reset; }, 60s));
  EXPECT_EQ(client.streams[id].head.status, 200);
  nlohmann::json entry = TunnelEntry(client);
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry.value("flags", ""), "SI");
  EXPECT_EQ(entry.value("details", ""), "stream_idle_timeout");
}

TEST_F(WebSocketH2Test, UpstreamSeesAnHttp1UpgradeWithAFreshKey) {
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  // Not /ws: the origin echoes the request head it got.
  const int32_t id = OpenWebSocket(
      client, "/echo", {{"sec-websocket-version", "13"}, {"sec-websocket-extensions", "x-test"}});
  ASSERT_GT(id, 0) << client.error;
  ASSERT_TRUE(client.Until([&] { return client.streams[id].ended || client.streams[id].reset; }));
  const H2RawClient::Stream& s = client.streams[id];
  EXPECT_EQ(s.head.status, 200);
  EXPECT_THAT(s.body, HasSubstr("GET /echo\n"));
  EXPECT_THAT(s.body, HasSubstr("upgrade: websocket\n"));
  EXPECT_THAT(s.body, HasSubstr("connection: upgrade\n"));
  EXPECT_THAT(s.body, HasSubstr("sec-websocket-version: 13\n"));
  EXPECT_THAT(s.body, HasSubstr("sec-websocket-extensions: x-test\n"));
  const size_t at = s.body.find("sec-websocket-key: ");
  ASSERT_NE(at, std::string::npos) << s.body;
  const std::string key = s.body.substr(at + 19, s.body.find('\n', at) - at - 19);
  std::string nonce;
  ASSERT_TRUE(absl::Base64Unescape(key, &nonce)) << key;
  EXPECT_EQ(nonce.size(), 16u);
}

TEST_F(WebSocketH2Test, RefusedHandshakeIsPassedOn) {
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  // Without sec-websocket-version the origin refuses the handshake (400).
  const int32_t id = OpenWebSocket(client, "/ws", {});
  ASSERT_GT(id, 0) << client.error;
  ASSERT_TRUE(client.Until([&] { return client.streams[id].ended || client.streams[id].reset; }));
  EXPECT_EQ(client.streams[id].head.status, 400);
}

TEST_F(WebSocketH2Test, OtherConnectsAreStillRefused) {
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  const int32_t plain = client.Open({"CONNECT", "", "app.test:443", "", {}}, false);
  ASSERT_GT(plain, 0) << client.error;
  ASSERT_TRUE(client.Until([&] { return client.streams[plain].has_head; }));
  EXPECT_EQ(client.streams[plain].head.status, 501);
  const int32_t other =
      client.Open({"CONNECT", "http", "app.test", "/x", {}, "not-websocket"}, false);
  ASSERT_GT(other, 0) << client.error;
  ASSERT_TRUE(client.Until([&] { return client.streams[other].has_head; }));
  EXPECT_EQ(client.streams[other].head.status, 501);
}

TEST_F(WebSocketH2Test, WebSocketOverHttp1StillWorks) {
  RawClient raw(proxy_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(
      raw.Send("GET /ws HTTP/1.1\r\nHost: app.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
  RawClient::Response r = raw.Read();
  ASSERT_EQ(r.status, 101) << r.head;
  // RFC 6455's example key and its accept value.
  EXPECT_EQ(r.Header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  ASSERT_TRUE(raw.Send(WsClientFrame(0x1, "hello over h1")));
  std::string bytes = r.body;
  std::optional<WsServerFrame> echo;
  ASSERT_TRUE(causeway::testing::WaitFor(
      [&] {
        bytes += raw.ReadSome();
        echo = TakeWsServerFrame(bytes);
        return echo.has_value();
      },
      30s));
  EXPECT_EQ(echo->payload, "hello over h1");
}

}  // namespace
}  // namespace causeway::proxy::testing
