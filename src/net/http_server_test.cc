// The HTTP server at its connection limit, with raw sockets on loopback: an
// idle keep-alive connection gives way to a new client, and with none idle
// the new client gets a quick 503 while the busy ones finish.
#include "net/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace causeway::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A blocking client socket with a receive timeout.
class RawSocket {
 public:
  explicit RawSocket(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawSocket() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Send(const std::string& data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Everything until the peer closes (or the timeout): "" when closed with
  // nothing sent.
  std::string ReadUntilClosed() {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // The first response's bytes, read until its body (Content-Length) is in.
  std::string ReadResponse() {
    std::string out;
    char buf[4096];
    for (;;) {
      size_t head = out.find("\r\n\r\n");
      if (head != std::string::npos) {
        size_t cl = out.find("Content-Length: ");
        size_t length = cl == std::string::npos ? 0 : std::stoul(out.substr(cl + 16));
        if (out.size() >= head + 4 + length) return out;
      }
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class HttpServerLimitTest : public ::testing::Test {
 protected:
  void Start(int max_connections, std::chrono::milliseconds idle_grace = {}) {
    Router router;
    router.Add({"GET", "/ping", [](Request&) { return Response::Text(200, "pong"); }});
    router.Add({"GET", "/hold",
                [this](Request&) {
                  std::unique_lock lock(mu_);
                  ++held_;
                  cv_.notify_all();
                  cv_.wait(lock, [&] { return released_; });
                  return Response::Text(200, "released");
                },
                /*blocking=*/true});
    HttpServer::Options options;
    options.address = "127.0.0.1:0";
    options.max_connections = max_connections;
    options.idle_grace = idle_grace;
    server_ = std::make_unique<HttpServer>(
        options, std::move(router),
        [](int status, std::string_view code, std::string_view message) {
          return Response::Json(status, std::string(code) + ": " + std::string(message));
        },
        [](const Request&, int, std::string_view, std::chrono::steady_clock::duration) {});
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    Release();
    if (server_) server_->Shutdown();
  }
  bool WaitHeld(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, seconds(10), [&] { return held_ >= n; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // Waits until the server counts `n` open connections.
  bool WaitActive(int n) {
    auto deadline = std::chrono::steady_clock::now() + seconds(10);
    while (server_->active_connections() != n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }

  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  int held_ = 0;
  bool released_ = false;
};

TEST_F(HttpServerLimitTest, AnIdleConnectionGivesWayToANewClient) {
  Start(/*max_connections=*/3);
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawSocket>(server_->port()));
    ASSERT_TRUE(idle.back()->connected());
  }
  ASSERT_TRUE(WaitActive(3));

  RawSocket client(server_->port());
  ASSERT_TRUE(client.Send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(client.ReadResponse().find("200 OK"), std::string::npos);
  // The oldest idle connection was the one closed, without a word.
  EXPECT_EQ(idle[0]->ReadUntilClosed(), "");
  EXPECT_EQ(server_->evicted_idle_connections(), 1);
  EXPECT_EQ(server_->refused_connections(), 0);
}

// A connection that has waited less than idle_grace for its request may be
// about to send it (or have it read but not yet parsed): it does not give
// way, and the newcomer is refused.
TEST_F(HttpServerLimitTest, AConnectionWithinTheIdleGraceDoesNotGiveWay) {
  Start(/*max_connections=*/2, /*idle_grace=*/std::chrono::hours(1));
  std::vector<std::unique_ptr<RawSocket>> fresh;
  for (int i = 0; i < 2; ++i) {
    fresh.push_back(std::make_unique<RawSocket>(server_->port()));
    ASSERT_TRUE(fresh.back()->connected());
  }
  ASSERT_TRUE(WaitActive(2));
  RawSocket client(server_->port());
  ASSERT_TRUE(client.Send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(client.ReadResponse().find("503"), std::string::npos);
  EXPECT_EQ(server_->evicted_idle_connections(), 0);
  EXPECT_EQ(server_->refused_connections(), 1);
}

TEST_F(HttpServerLimitTest, WithNoneIdleTheNewClientGetsA503AndTheBusyOnesFinish) {
  Start(/*max_connections=*/2);
  std::vector<std::unique_ptr<RawSocket>> busy;
  for (int i = 0; i < 2; ++i) {
    busy.push_back(std::make_unique<RawSocket>(server_->port()));
    ASSERT_TRUE(busy.back()->Send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  ASSERT_TRUE(WaitHeld(2));

  RawSocket refused(server_->port());
  std::string answer = refused.ReadUntilClosed();
  EXPECT_NE(answer.find("503 Service Unavailable"), std::string::npos) << answer;
  EXPECT_NE(answer.find("connection limit"), std::string::npos) << answer;
  EXPECT_EQ(server_->refused_connections(), 1);

  Release();
  for (auto& b : busy) EXPECT_NE(b->ReadResponse().find("released"), std::string::npos);
}

}  // namespace
}  // namespace causeway::http
