// Client codec to server codec in memory: every byte one writes is fed to
// the other, so each test runs both nghttp2 sessions against each other.
#include "proxy/codec/http2_codec.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace causeway::proxy::http2 {
namespace {

struct H2StreamLog {
  std::optional<RequestHead> request;
  std::optional<ResponseHead> response;
  std::string data;
  size_t unconsumed = 0;  // DATA bytes not yet given back with ConsumeData
  std::optional<HeaderList> trailers;
  bool ended = false;
  std::optional<uint32_t> reset;
};

// Records what one side's codec reports; `consume` gives DATA windows back.
class H2Recorder : public Events {
 public:
  std::map<int32_t, H2StreamLog> streams;
  std::vector<std::pair<int32_t, uint32_t>> goaways;
  int window_updates = 0;
  std::function<void(int32_t)> on_request;
  bool consume = true;
  Codec* codec = nullptr;

  void OnRequestHead(int32_t id, RequestHead head) override {
    streams[id].request = std::move(head);
    if (on_request) on_request(id);
  }
  void OnResponseHead(int32_t id, ResponseHead head) override {
    streams[id].response = std::move(head);
  }
  void OnData(int32_t id, std::string_view data) override {
    H2StreamLog& s = streams[id];
    s.data.append(data);
    if (consume) {
      codec->ConsumeData(id, data.size());
    } else {
      s.unconsumed += data.size();
    }
  }
  void OnTrailers(int32_t id, HeaderList trailers) override {
    streams[id].trailers = std::move(trailers);
  }
  void OnEndStream(int32_t id) override {
    EXPECT_FALSE(streams[id].ended) << "stream " << id << " ended twice";
    streams[id].ended = true;
  }
  void OnReset(int32_t id, uint32_t code) override { streams[id].reset = code; }
  void OnGoaway(int32_t last, uint32_t code) override { goaways.push_back({last, code}); }
  void OnWindowUpdate(int32_t) override { ++window_updates; }
};

class H2Pair {
 public:
  explicit H2Pair(Settings server_settings = {}, Settings client_settings = {}) {
    auto s = ServerCodec::Create(server_settings, &server_events);
    auto c = ClientCodec::Create(client_settings, &client_events);
    EXPECT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE(c.ok()) << c.status();
    server = std::move(*s);
    client = std::move(*c);
    server_events.codec = server.get();
    client_events.codec = client.get();
  }

  // Takes what `from` has to write.
  static std::string Drain(Codec& from) {
    std::string bytes(from.Pending());
    from.Consumed(bytes.size());
    return bytes;
  }

  // Moves bytes both ways until both sides are quiet or one fails.
  void Pump() {
    for (int round = 0; round < 10000; ++round) {
      std::string to_server = Drain(*client);
      std::string to_client = Drain(*server);
      if (to_server.empty() && to_client.empty()) return;
      if (!to_server.empty()) server_error.Update(server->Receive(to_server));
      if (!to_client.empty()) client_error.Update(client->Receive(to_client));
      if (!server_error.ok() || !client_error.ok()) return;
    }
    ADD_FAILURE() << "the codecs never went quiet";
  }

  H2Recorder server_events;
  H2Recorder client_events;
  std::unique_ptr<ServerCodec> server;
  std::unique_ptr<ClientCodec> client;
  absl::Status server_error;
  absl::Status client_error;
};

RequestHead H2Get(std::string path = "/") {
  return RequestHead{"GET", "https", "example.com", std::move(path), {{"accept", "*/*"}}};
}

RequestHead H2Post(HeaderList headers = {}) {
  return RequestHead{"POST", "http", "example.com", "/upload", std::move(headers)};
}

TEST(Http2CodecTest, GetRoundTrip) {
  H2Pair pair;
  pair.server_events.on_request = [&](int32_t id) {
    ASSERT_TRUE(
        pair.server->SubmitResponse(id, {200, {{"content-type", "text/plain"}}}, false).ok());
    ASSERT_TRUE(pair.server->SubmitData(id, "hello", true).ok());
  };
  auto id = pair.client->SubmitRequest(H2Get("/index?q=1"), true);
  ASSERT_TRUE(id.ok()) << id.status();
  pair.Pump();
  ASSERT_TRUE(pair.server_error.ok()) << pair.server_error;
  ASSERT_TRUE(pair.client_error.ok()) << pair.client_error;

  const H2StreamLog& in = pair.server_events.streams[*id];
  ASSERT_TRUE(in.request.has_value());
  EXPECT_EQ(in.request->method, "GET");
  EXPECT_EQ(in.request->scheme, "https");
  EXPECT_EQ(in.request->authority, "example.com");
  EXPECT_EQ(in.request->path, "/index?q=1");
  EXPECT_EQ(in.request->headers, (HeaderList{{"accept", "*/*"}}));
  EXPECT_TRUE(in.ended);

  const H2StreamLog& out = pair.client_events.streams[*id];
  ASSERT_TRUE(out.response.has_value());
  EXPECT_EQ(out.response->status, 200);
  EXPECT_EQ(out.response->headers, (HeaderList{{"content-type", "text/plain"}}));
  EXPECT_EQ(out.data, "hello");
  EXPECT_TRUE(out.ended);
  EXPECT_FALSE(out.reset.has_value());
  EXPECT_EQ(pair.client->ActiveStreams(), 0u);
  EXPECT_EQ(pair.server->ActiveStreams(), 0u);
}

std::string H2Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

// A 1 MiB upload through 64 KiB windows: the client queues only what
// Writable() allows, and nothing beyond the window reaches the server until
// the server gives bytes back.
TEST(Http2CodecTest, PostMebibyteWaitsForWindowUpdates) {
  H2Pair pair;
  pair.server_events.consume = false;
  const std::string body = H2Pattern(1 << 20);
  auto id =
      pair.client->SubmitRequest(H2Post({{"content-length", std::to_string(body.size())}}), false);
  ASSERT_TRUE(id.ok()) << id.status();
  pair.Pump();
  EXPECT_EQ(pair.client->Writable(*id), 65535u);

  size_t sent = 0;
  int stalls = 0;
  while (sent < body.size()) {
    size_t n = std::min(pair.client->Writable(*id), body.size() - sent);
    if (n > 0) {
      ASSERT_TRUE(pair.client->SubmitData(*id, body.substr(sent, n), sent + n == body.size()).ok());
      sent += n;
    }
    pair.Pump();
    ASSERT_TRUE(pair.server_error.ok()) << pair.server_error;
    H2StreamLog& in = pair.server_events.streams[*id];
    // Never more than the announced window outstanding.
    ASSERT_LE(in.unconsumed, 65535u);
    if (sent < body.size() && pair.client->Writable(*id) == 0) {
      ++stalls;
      EXPECT_EQ(pair.client->Queued(*id), 0u);
      pair.server->ConsumeData(*id, in.unconsumed);
      in.unconsumed = 0;
    }
  }
  pair.server->ConsumeData(*id, pair.server_events.streams[*id].unconsumed);
  pair.Pump();
  EXPECT_GE(stalls, 15);                                 // 1 MiB / 64 KiB windows
  EXPECT_GE(pair.client_events.window_updates, stalls);  // each stall ended by one
  EXPECT_EQ(pair.server_events.streams[*id].data, body);
  EXPECT_TRUE(pair.server_events.streams[*id].ended);
}

// DATA the caller never gave back before a stream was reset is returned to
// the connection's window, or the next stream would stall behind it.
TEST(Http2CodecTest, ResetStreamGivesItsWindowBack) {
  H2Pair pair;
  pair.server_events.consume = false;
  auto first = pair.client->SubmitRequest(H2Post(), false);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(pair.client->SubmitData(*first, std::string(60000, 'a'), false).ok());
  pair.Pump();
  ASSERT_EQ(pair.server_events.streams[*first].unconsumed, 60000u);
  ASSERT_TRUE(pair.client->SubmitReset(*first, kCancel).ok());
  pair.Pump();
  ASSERT_EQ(pair.server_events.streams[*first].reset, kCancel);
  pair.server->ConsumeData(*first, 60000);  // too late: a no-op, not a second return

  pair.server_events.consume = true;
  auto second = pair.client->SubmitRequest(H2Post(), false);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(pair.client->SubmitData(*second, std::string(60000, 'b'), true).ok());
  pair.Pump();
  ASSERT_TRUE(pair.server_error.ok() && pair.client_error.ok());
  EXPECT_EQ(pair.server_events.streams[*second].data.size(), 60000u);
  EXPECT_TRUE(pair.server_events.streams[*second].ended);
}

TEST(Http2CodecTest, QueueBeyondItsBoundIsRefused) {
  Settings client_settings;
  client_settings.max_queued_data = 1000;
  H2Pair pair({}, client_settings);
  auto id = pair.client->SubmitRequest(H2Post(), false);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(pair.client->SubmitData(*id, std::string(600, 'x'), false).ok());
  absl::Status st = pair.client->SubmitData(*id, std::string(600, 'x'), false);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("max_queued_data"), std::string_view::npos) << st;
}

// gRPC style: request and response bodies, grpc-status in the trailers.
TEST(Http2CodecTest, TrailersBothWays) {
  H2Pair pair;
  pair.server_events.on_request = [&](int32_t id) {
    ASSERT_TRUE(
        pair.server->SubmitResponse(id, {200, {{"content-type", "application/grpc"}}}, false).ok());
    ASSERT_TRUE(pair.server->SubmitData(id, "reply", false).ok());
    ASSERT_TRUE(
        pair.server->SubmitTrailers(id, {{"grpc-status", "0"}, {"grpc-message", "ok"}}).ok());
  };
  auto id = pair.client->SubmitRequest(
      H2Post({{"content-type", "application/grpc"}, {"te", "trailers"}}), false);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(pair.client->SubmitData(*id, "call", false).ok());
  ASSERT_TRUE(pair.client->SubmitTrailers(*id, {{"x-checksum", "42"}}).ok());
  pair.Pump();
  ASSERT_TRUE(pair.server_error.ok() && pair.client_error.ok());

  const H2StreamLog& in = pair.server_events.streams[*id];
  EXPECT_EQ(in.data, "call");
  EXPECT_EQ(in.trailers, (HeaderList{{"x-checksum", "42"}}));
  EXPECT_TRUE(in.ended);
  const H2StreamLog& out = pair.client_events.streams[*id];
  EXPECT_EQ(out.data, "reply");
  EXPECT_EQ(out.trailers, (HeaderList{{"grpc-status", "0"}, {"grpc-message", "ok"}}));
  EXPECT_TRUE(out.ended);
  EXPECT_FALSE(out.reset.has_value());
}

TEST(Http2CodecTest, TrailersOnlyResponse) {
  H2Pair pair;
  pair.server_events.on_request = [&](int32_t id) {
    ASSERT_TRUE(pair.server
                    ->SubmitResponse(id,
                                     {200,
                                      {{"content-type", "application/grpc"},
                                       {"grpc-status", "12"},
                                       {"grpc-message", "unimplemented"}}},
                                     true)
                    .ok());
  };
  auto id = pair.client->SubmitRequest(H2Post({{"te", "trailers"}}), true);
  ASSERT_TRUE(id.ok());
  pair.Pump();
  const H2StreamLog& out = pair.client_events.streams[*id];
  ASSERT_TRUE(out.response.has_value());
  EXPECT_EQ(out.response->headers[1], (Header{"grpc-status", "12"}));
  EXPECT_FALSE(out.trailers.has_value());
  EXPECT_TRUE(out.data.empty());
  EXPECT_TRUE(out.ended);
}

// 100-continue: the interim head is sent and skipped by the client, which
// reports the final head only.
TEST(Http2CodecTest, InterimResponseIsSkipped) {
  H2Pair pair;
  pair.server_events.on_request = [&](int32_t id) {
    ASSERT_TRUE(pair.server->SubmitInterim(id, {100, {}}).ok());
    EXPECT_EQ(pair.server->SubmitInterim(id, {101, {}}).code(), absl::StatusCode::kInvalidArgument);
  };
  auto id = pair.client->SubmitRequest(H2Post({{"expect", "100-continue"}}), false);
  ASSERT_TRUE(id.ok());
  pair.Pump();
  EXPECT_FALSE(pair.client_events.streams[*id].response.has_value());
  ASSERT_TRUE(pair.client->SubmitData(*id, "body", true).ok());
  pair.Pump();
  ASSERT_TRUE(pair.server->SubmitResponse(*id, {201, {{"location", "/upload/1"}}}, true).ok());
  pair.Pump();
  ASSERT_TRUE(pair.client_events.streams[*id].response.has_value());
  EXPECT_EQ(pair.client_events.streams[*id].response->status, 201);
  EXPECT_EQ(pair.client_events.streams[*id].response->headers,
            (HeaderList{{"location", "/upload/1"}}));
  EXPECT_EQ(pair.server->SubmitInterim(*id, {100, {}}).code(), absl::StatusCode::kNotFound);
}

// RFC 8441: WebSocket over HTTP/2 once the server has enabled it; the
// stream then carries bytes both ways like a tunnel.
TEST(Http2CodecTest, ExtendedConnectWhenTheServerEnablesIt) {
  Settings server_settings;
  server_settings.enable_connect_protocol = true;
  H2Pair pair(server_settings);
  RequestHead ws{
      "CONNECT", "https", "chat.example.com", "/chat", {{"sec-websocket-version", "13"}}};
  ws.protocol = "websocket";
  // Not before the server's SETTINGS say so.
  EXPECT_EQ(pair.client->SubmitRequest(ws, false).status().code(),
            absl::StatusCode::kFailedPrecondition);
  pair.Pump();
  pair.server_events.on_request = [&](int32_t id) {
    ASSERT_TRUE(pair.server->SubmitResponse(id, {200, {}}, false).ok());
    ASSERT_TRUE(pair.server->SubmitData(id, "server frame", false).ok());
  };
  auto id = pair.client->SubmitRequest(ws, false);
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(pair.client->SubmitData(*id, "client frame", false).ok());
  pair.Pump();
  const H2StreamLog& in = pair.server_events.streams[*id];
  ASSERT_TRUE(in.request.has_value());
  EXPECT_EQ(in.request->method, "CONNECT");
  EXPECT_EQ(in.request->protocol, "websocket");
  EXPECT_EQ(in.request->path, "/chat");
  EXPECT_EQ(in.data, "client frame");
  EXPECT_EQ(pair.client_events.streams[*id].response->status, 200);
  EXPECT_EQ(pair.client_events.streams[*id].data, "server frame");

  RequestHead bad = ws;
  bad.path.clear();
  EXPECT_EQ(pair.client->SubmitRequest(bad, false).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Http2CodecTest, ExtendedConnectIsOffByDefault) {
  H2Pair pair;
  pair.Pump();
  RequestHead ws{"CONNECT", "https", "chat.example.com", "/chat", {}};
  ws.protocol = "websocket";
  absl::Status st = pair.client->SubmitRequest(ws, false).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("SETTINGS_ENABLE_CONNECT_PROTOCOL"), std::string_view::npos) << st;
}

TEST(Http2CodecTest, ClientResetReachesServer) {
  H2Pair pair;
  auto id = pair.client->SubmitRequest(H2Post(), false);
  ASSERT_TRUE(id.ok());
  pair.Pump();
  ASSERT_TRUE(pair.server_events.streams[*id].request.has_value());
  ASSERT_TRUE(pair.client->SubmitReset(*id, kCancel).ok());
  pair.Pump();
  EXPECT_EQ(pair.server_events.streams[*id].reset, kCancel);
  EXPECT_EQ(pair.client_events.streams[*id].reset, kCancel);  // our own reset is reported too
  EXPECT_EQ(pair.server->ActiveStreams(), 0u);
  EXPECT_EQ(pair.client->ActiveStreams(), 0u);
  EXPECT_EQ(pair.client->SubmitData(*id, "late", true).code(), absl::StatusCode::kNotFound);
}

TEST(Http2CodecTest, ServerResetReachesClient) {
  H2Pair pair;
  pair.server_events.on_request = [&](int32_t id) {
    ASSERT_TRUE(pair.server->SubmitReset(id, kInternalError).ok());
  };
  auto id = pair.client->SubmitRequest(H2Get(), true);
  ASSERT_TRUE(id.ok());
  pair.Pump();
  EXPECT_EQ(pair.client_events.streams[*id].reset, kInternalError);
  EXPECT_FALSE(pair.client_events.streams[*id].response.has_value());
  EXPECT_EQ(pair.client->ActiveStreams(), 0u);
}

// A graceful drain: the shutdown notice stops new streams at once; the
// streams in flight finish, then the final GOAWAY closes the connection.
TEST(Http2CodecTest, ShutdownNoticeThenGoaway) {
  H2Pair pair;
  auto first = pair.client->SubmitRequest(H2Get("/1"), true);
  auto second = pair.client->SubmitRequest(H2Get("/2"), true);
  ASSERT_TRUE(first.ok() && second.ok());
  pair.Pump();
  ASSERT_TRUE(pair.server->SubmitShutdownNotice().ok());
  pair.Pump();
  ASSERT_EQ(pair.client_events.goaways.size(), 1u);
  EXPECT_EQ(pair.client_events.goaways[0], std::make_pair(0x7fffffff, kNoError));
  EXPECT_EQ(pair.client->SubmitRequest(H2Get("/3"), true).status().code(),
            absl::StatusCode::kUnavailable);

  for (int32_t id : {*first, *second}) {
    ASSERT_TRUE(pair.server->SubmitResponse(id, {204, {}}, true).ok());
  }
  ASSERT_TRUE(pair.server->SubmitGoaway(kNoError).ok());
  pair.Pump();
  EXPECT_EQ(pair.client_events.streams[*first].response->status, 204);
  EXPECT_EQ(pair.client_events.streams[*second].response->status, 204);
  ASSERT_EQ(pair.client_events.goaways.size(), 2u);
  EXPECT_EQ(pair.client_events.goaways[1], std::make_pair(*second, kNoError));
  EXPECT_TRUE(pair.server->WantsClose());
  EXPECT_TRUE(pair.client->WantsClose());
}

// GOAWAY names the last stream the server took: a request it overtook is
// refused on the client (safe to retry elsewhere) and ignored by the server.
TEST(Http2CodecTest, GoawayRefusesStreamsAboveItsLastStreamId) {
  H2Pair pair;
  auto first = pair.client->SubmitRequest(H2Get("/1"), true);
  ASSERT_TRUE(first.ok());
  pair.Pump();
  auto late = pair.client->SubmitRequest(H2Get("/late"), true);
  ASSERT_TRUE(late.ok()) << late.status();
  std::string in_flight = H2Pair::Drain(*pair.client);
  ASSERT_TRUE(pair.server->SubmitGoaway(kNoError).ok());
  ASSERT_TRUE(pair.client->Receive(H2Pair::Drain(*pair.server)).ok());
  ASSERT_EQ(pair.client_events.goaways.size(), 1u);
  EXPECT_EQ(pair.client_events.goaways[0], std::make_pair(*first, kNoError));
  EXPECT_EQ(pair.client_events.streams[*late].reset, kRefusedStream);
  EXPECT_FALSE(pair.client_events.streams[*first].reset.has_value());
  ASSERT_TRUE(pair.server->Receive(in_flight).ok());
  EXPECT_FALSE(pair.server_events.streams.contains(*late));

  ASSERT_TRUE(pair.server->SubmitResponse(*first, {200, {}}, true).ok());
  pair.Pump();
  EXPECT_EQ(pair.client_events.streams[*first].response->status, 200);
}

// Requests sent before the server's SETTINGS arrive are held to its limit
// anyway: the one over it is refused with REFUSED_STREAM, and afterwards the
// client applies the limit itself.
TEST(Http2CodecTest, StreamsOverTheLimitAreRefused) {
  Settings server_settings;
  server_settings.max_concurrent_streams = 2;
  H2Pair pair(server_settings);
  std::vector<int32_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto id = pair.client->SubmitRequest(H2Get("/" + std::to_string(i)), true);
    ASSERT_TRUE(id.ok()) << id.status();
    ids.push_back(*id);
  }
  pair.Pump();
  EXPECT_TRUE(pair.server_events.streams[ids[0]].request.has_value());
  EXPECT_TRUE(pair.server_events.streams[ids[1]].request.has_value());
  EXPECT_FALSE(pair.server_events.streams.contains(ids[2]));
  EXPECT_EQ(pair.client_events.streams[ids[2]].reset, kRefusedStream);

  EXPECT_EQ(pair.client->PeerMaxConcurrentStreams(), 2u);
  auto over = pair.client->SubmitRequest(H2Get("/over"), true);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kUnavailable) << over.status();
  ASSERT_TRUE(pair.server->SubmitResponse(ids[0], {200, {}}, true).ok());
  pair.Pump();
  EXPECT_TRUE(pair.client->SubmitRequest(H2Get("/again"), true).ok());
}

TEST(Http2CodecTest, BadPrefaceIsAnError) {
  H2Recorder events;
  auto server = ServerCodec::Create({}, &events);
  ASSERT_TRUE(server.ok());
  absl::Status st = (*server)->Receive("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("magic"), std::string_view::npos) << st;
  EXPECT_EQ((*server)->Receive("more").code(), st.code());
  EXPECT_TRUE((*server)->WantsClose());
}

TEST(Http2CodecTest, GarbageAfterPrefaceIsAConnectionError) {
  H2Recorder events;
  auto server = ServerCodec::Create({}, &events);
  ASSERT_TRUE(server.ok());
  // The preface, then a DATA frame on stream 0 (a connection error).
  std::string bytes = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  bytes += std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);  // empty SETTINGS
  bytes += std::string("\x00\x00\x01\x00\x00\x00\x00\x00\x00x", 10);
  absl::Status st = (*server)->Receive(bytes);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("PROTOCOL_ERROR"), std::string_view::npos) << st;
  EXPECT_FALSE((*server)->Pending().empty());  // the GOAWAY saying so
}

TEST(Http2CodecTest, RequestHeadOverTheBoundGets431) {
  Settings server_settings;
  server_settings.max_header_list_size = 4096;
  H2Pair pair(server_settings);
  RequestHead head = H2Post({{"x-big", std::string(8000, 'b')}});
  auto id = pair.client->SubmitRequest(head, false);
  ASSERT_TRUE(id.ok());
  // The body and trailers that follow are dropped, not delivered.
  ASSERT_TRUE(pair.client->SubmitData(*id, "body", false).ok());
  ASSERT_TRUE(pair.client->SubmitTrailers(*id, {{"x-checksum", "1"}}).ok());
  pair.Pump();
  ASSERT_TRUE(pair.server_error.ok()) << pair.server_error;
  EXPECT_FALSE(pair.server_events.streams.contains(*id));
  ASSERT_TRUE(pair.client_events.streams[*id].response.has_value());
  EXPECT_EQ(pair.client_events.streams[*id].response->status, 431);
  EXPECT_EQ(pair.server->ActiveStreams(), 0u);
}

TEST(Http2CodecTest, ResponseHeadOverTheBoundResetsTheStream) {
  Settings client_settings;
  client_settings.max_header_list_size = 4096;
  H2Pair pair({}, client_settings);
  pair.server_events.on_request = [&](int32_t id) {
    ASSERT_TRUE(
        pair.server->SubmitResponse(id, {200, {{"x-big", std::string(8000, 'b')}}}, true).ok());
  };
  auto id = pair.client->SubmitRequest(H2Get(), true);
  ASSERT_TRUE(id.ok());
  pair.Pump();
  EXPECT_FALSE(pair.client_events.streams[*id].response.has_value());
  EXPECT_EQ(pair.client_events.streams[*id].reset, kInternalError);
  EXPECT_FALSE(pair.client_events.streams[*id].ended);
}

TEST(Http2CodecTest, HeaderListFarOverTheBoundEndsTheConnection) {
  Settings server_settings;
  server_settings.max_header_list_size = 1024;
  H2Pair pair(server_settings);
  HeaderList many;
  for (int i = 0; i < 8; ++i)
    many.push_back({"x-big-" + std::to_string(i), std::string(1000, 'b')});
  ASSERT_TRUE(pair.client->SubmitRequest(H2Post(many), true).ok());
  pair.Pump();
  EXPECT_EQ(pair.server_error.code(), absl::StatusCode::kResourceExhausted) << pair.server_error;
  EXPECT_TRUE(pair.server->WantsClose());
}

TEST(Http2CodecTest, BadArgumentsNameTheField) {
  H2Pair pair;
  Settings bad;
  bad.initial_window_size = 1u << 31;
  absl::Status st = ValidateSettings(bad);
  EXPECT_NE(st.message().find("initial_window_size"), std::string_view::npos) << st;

  auto id = pair.client->SubmitRequest(H2Post({{"X-Upper", "v"}}), true);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(id.status().message().find("X-Upper"), std::string_view::npos) << id.status();
  id = pair.client->SubmitRequest(H2Post({{"transfer-encoding", "chunked"}}), true);
  EXPECT_NE(id.status().message().find("connection-specific header \"transfer-encoding\""),
            std::string_view::npos)
      << id.status();
  id = pair.client->SubmitRequest(H2Post({{"x-crlf", "a\r\nb"}}), true);
  EXPECT_NE(id.status().message().find("x-crlf"), std::string_view::npos) << id.status();
  RequestHead no_path = H2Get("");
  EXPECT_NE(pair.client->SubmitRequest(no_path, true).status().message().find(":path"),
            std::string_view::npos);
  EXPECT_EQ(pair.server->SubmitResponse(1, {200, {}}, true).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(pair.client->SubmitData(99, "x", true).code(), absl::StatusCode::kNotFound);
  H2Recorder events;
  EXPECT_EQ(ServerCodec::Create(bad, &events).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ServerCodec::Create({}, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace causeway::proxy::http2
