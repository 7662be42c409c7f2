// The server codec against a real HTTP/2 client: nghttp (Debian
// nghttp2-client, installed by scripts/bootstrap) talks to a tiny loopback
// server built from ServerCodec, so the codec's frames are checked by an
// implementation other than the one it wraps on the far side.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "proxy/codec/http2_codec.h"
#include "support/process.h"

namespace causeway::proxy::http2 {
namespace {

// Answers when a request has ended: GET /hello with a body and a trailer,
// anything else with the number of body bytes it received.
class PeerTestHandler : public Events {
 public:
  ServerCodec* codec = nullptr;

  void OnRequestHead(int32_t id, RequestHead head) override { paths_[id] = head.path; }
  void OnData(int32_t id, std::string_view data) override {
    received_[id] += data.size();
    codec->ConsumeData(id, data.size());
  }
  void OnEndStream(int32_t id) override {
    if (paths_[id] == "/hello") {
      Expect(codec->SubmitResponse(id, {200, {{"content-type", "text/plain"}}}, false));
      Expect(codec->SubmitData(id, "hello from causeway\n", false));
      Expect(codec->SubmitTrailers(id, {{"x-checksum", "done"}}));
    } else {
      Expect(codec->SubmitResponse(id, {200, {}}, false));
      Expect(codec->SubmitData(id, "received " + std::to_string(received_[id]) + " bytes\n", true));
    }
  }

 private:
  static void Expect(const absl::Status& st) { EXPECT_TRUE(st.ok()) << st; }
  std::map<int32_t, std::string> paths_;
  std::map<int32_t, size_t> received_;
};

bool PeerTestSendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// One connection: read, feed the codec, write what it has, until either
// side is done.
void PeerTestServe(int fd, const std::atomic<bool>& stop) {
  PeerTestHandler handler;
  auto codec = ServerCodec::Create({}, &handler);
  ASSERT_TRUE(codec.ok()) << codec.status();
  handler.codec = codec->get();
  char buf[16384];
  while (!stop) {
    std::string out((*codec)->Pending());
    (*codec)->Consumed(out.size());
    if (!PeerTestSendAll(fd, out) || (*codec)->WantsClose()) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    absl::Status st = (*codec)->Receive(std::string_view(buf, static_cast<size_t>(n)));
    EXPECT_TRUE(st.ok()) << st;
  }
  ::close(fd);
}

class PeerTestServer {
 public:
  PeerTestServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Port 0 and kept open: the port is ours for the test's whole life.
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~PeerTestServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  void Run() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) PeerTestServe(fd, stop_);
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string PeerTestNghttp() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin"}) {
    std::string path = std::string(dir) + "/nghttp";
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

// nghttp's output (body on stdout, frames with -v), after it exited 0.
std::string RunNghttp(const std::vector<std::string>& args, const testing::TempDir& dir) {
  std::vector<std::string> argv = {PeerTestNghttp(), "-v"};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::Subprocess::Options options;
  options.argv = argv;
  options.log_path = dir.File("nghttp.log");
  testing::Subprocess nghttp(options);
  int status = nghttp.Wait(std::chrono::seconds(60));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << "\n"
                                                             << nghttp.Log();
  return nghttp.Log();
}

TEST(Http2PeerTest, NghttpGetsBodyAndTrailers) {
  if (PeerTestNghttp().empty()) GTEST_SKIP() << "nghttp not installed (scripts/bootstrap)";
  PeerTestServer server;
  testing::TempDir dir;
  std::string log = RunNghttp({server.Url("/hello")}, dir);
  EXPECT_NE(log.find("hello from causeway\n"), std::string::npos) << log;
  EXPECT_NE(log.find("x-checksum: done"), std::string::npos) << log;
}

// 300 KB through 64 KiB windows: the upload completes only if the codec
// sends WINDOW_UPDATE as the handler consumes.
TEST(Http2PeerTest, NghttpUploadsUnderFlowControl) {
  if (PeerTestNghttp().empty()) GTEST_SKIP() << "nghttp not installed (scripts/bootstrap)";
  PeerTestServer server;
  testing::TempDir dir;
  {
    std::ofstream body(dir.File("body"), std::ios::binary);
    body << std::string(300 * 1000, 'u');
  }
  std::string log = RunNghttp({"-d", dir.File("body"), server.Url("/upload")}, dir);
  EXPECT_NE(log.find("received 300000 bytes\n"), std::string::npos) << log;
  // Windows for the stream and the connection, reopened several times each.
  size_t updates = 0;
  for (size_t at = log.find("recv WINDOW_UPDATE"); at != std::string::npos;
       at = log.find("recv WINDOW_UPDATE", at + 1)) {
    ++updates;
  }
  EXPECT_GE(updates, 8u) << log;
}

}  // namespace
}  // namespace causeway::proxy::http2
