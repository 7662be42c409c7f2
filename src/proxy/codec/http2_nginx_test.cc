// The client codec against a real HTTP/2 server: Debian's nginx with an
// `http2` cleartext listener (prior knowledge), so the client's frames and
// its reading of a server's SETTINGS are checked by another implementation.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/codec/http2_codec.h"
#include "support/nginx_server.h"
#include "support/process.h"

namespace causeway::proxy::http2 {
namespace {

using testing::kNginxBinary;

// nginx with one `http2` clear-text listener answering every request itself.
class NginxH2Origin {
 public:
  NginxH2Origin()
      : port_(testing::FreePort()), nginx_(HttpBlock(port_), /*worker_connections=*/64) {}
  bool Start() { return nginx_.Start({static_cast<uint16_t>(port_)}); }
  int port() const { return port_; }

 private:
  static std::string HttpBlock(int port) {
    return "  http2_max_concurrent_streams 7;\n"
           "  client_max_body_size 10m;\n"
           "  server {\n    listen 127.0.0.1:" +
           std::to_string(port) +
           " http2;\n"
           "    location / {\n      add_header x-origin nginx-h2;\n"
           "      return 200 \"hello from nginx $request_method $uri\\n\";\n    }\n  }\n";
  }

  int port_;
  testing::NginxServer nginx_;
};

struct NginxH2Stream {
  int status = 0;
  HeaderList headers;
  std::string body;
  bool ended = false;
  std::optional<uint32_t> reset;
};

class NginxH2Client : public Events {
 public:
  std::unique_ptr<ClientCodec> codec;
  std::map<int32_t, NginxH2Stream> streams;
  bool settings_seen = false;

  void OnResponseHead(int32_t id, ResponseHead head) override {
    streams[id].status = head.status;
    streams[id].headers = std::move(head.headers);
  }
  void OnData(int32_t id, std::string_view data) override {
    streams[id].body.append(data);
    codec->ConsumeData(id, data.size());
  }
  void OnEndStream(int32_t id) override { streams[id].ended = true; }
  void OnReset(int32_t id, uint32_t code) override { streams[id].reset = code; }
  void OnWindowUpdate(int32_t id) override { settings_seen = settings_seen || id == 0; }
};

// Runs one connection until `done` holds (or 60 s pass): writes what the
// codec has, reads what nginx sends; `step` may submit more on the way.
bool NginxH2Exchange(
    int port, NginxH2Client& client, const std::function<bool()>& done,
    const std::function<void()>& step = [] {}) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return false;
  }
  bool ok = testing::WaitFor(
      [&] {
        step();
        std::string out(client.codec->Pending());
        client.codec->Consumed(out.size());
        for (std::string_view rest = out; !rest.empty();) {
          ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
          if (n <= 0) return true;  // nginx closed: `done` decides below
          rest.remove_prefix(static_cast<size_t>(n));
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) > 0) {
          char buf[16384];
          ssize_t n = ::read(fd, buf, sizeof(buf));
          if (n <= 0) return true;
          EXPECT_TRUE(client.codec->Receive(std::string_view(buf, static_cast<size_t>(n))).ok());
        }
        return done();
      },
      std::chrono::seconds(60));
  ::close(fd);
  return ok && done();
}

class Http2NginxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kNginxBinary, X_OK) != 0)
      GTEST_SKIP() << "nginx not installed (scripts/bootstrap)";
    ASSERT_TRUE(origin_.Start());
    auto codec = ClientCodec::Create({}, &client_);
    ASSERT_TRUE(codec.ok()) << codec.status();
    client_.codec = std::move(*codec);
  }

  NginxH2Origin origin_;
  NginxH2Client client_;
};

TEST_F(Http2NginxTest, StreamLimitComesFromNginxSettings) {
  ASSERT_TRUE(NginxH2Exchange(origin_.port(), client_, [&] { return client_.settings_seen; }));
  EXPECT_EQ(client_.codec->PeerMaxConcurrentStreams(), 7u);
}

TEST_F(Http2NginxTest, ConcurrentGetsAndAnUpload) {
  std::vector<int32_t> gets;
  for (int i = 0; i < 3; ++i) {
    auto id = client_.codec->SubmitRequest(
        RequestHead{"GET", "http", "127.0.0.1", "/item/" + std::to_string(i), {}}, true);
    ASSERT_TRUE(id.ok()) << id.status();
    gets.push_back(*id);
  }
  // 300 KB through nginx's windows, queued only as Writable() allows.
  const std::string body(300 * 1000, 'u');
  auto upload =
      client_.codec->SubmitRequest(RequestHead{"POST",
                                               "http",
                                               "127.0.0.1",
                                               "/upload",
                                               {{"content-length", std::to_string(body.size())}}},
                                   false);
  ASSERT_TRUE(upload.ok()) << upload.status();
  size_t sent = 0;
  auto feed = [&] {
    size_t n = std::min(client_.codec->Writable(*upload), body.size() - sent);
    if (n == 0) return;
    EXPECT_TRUE(
        client_.codec->SubmitData(*upload, body.substr(sent, n), sent + n == body.size()).ok());
    sent += n;
  };
  auto all_done = [&] {
    for (auto& [id, s] : client_.streams) {
      if (!s.ended && !s.reset) return false;
    }
    return client_.streams.size() == 4;
  };
  ASSERT_TRUE(NginxH2Exchange(origin_.port(), client_, all_done, feed));

  for (int i = 0; i < 3; ++i) {
    const NginxH2Stream& s = client_.streams[gets[i]];
    EXPECT_EQ(s.status, 200);
    EXPECT_EQ(s.body, "hello from nginx GET /item/" + std::to_string(i) + "\n");
    EXPECT_NE(std::find(s.headers.begin(), s.headers.end(), Header{"x-origin", "nginx-h2"}),
              s.headers.end());
  }
  // nginx may answer before it has read the whole body; it then stops the
  // upload with RST_STREAM(NO_ERROR), which is not an error.
  const NginxH2Stream& up = client_.streams[*upload];
  EXPECT_EQ(up.status, 200);
  EXPECT_EQ(up.body, "hello from nginx POST /upload\n");
  EXPECT_FALSE(up.reset.has_value() && *up.reset != kNoError);
}

}  // namespace
}  // namespace causeway::proxy::http2
