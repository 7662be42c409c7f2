// HttpClient's URL and TLS options, checked before anything connects; then
// against a real server on loopback (plain, or TLS requiring a client
// certificate): mutual TLS, default headers, a body read line by line as it
// streams, and Cancel() from another thread ending a blocked call.
#include "net/http_client.h"

#include <atomic>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <thread>

#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gtest/gtest.h"
#include "support/process.h"
#include "support/test_certs.h"

namespace causeway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using std::chrono::milliseconds;

std::string ReadWholeFileForClientTest(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// One accepted connection as the test's answer sees it.
struct ScriptedConn {
  const bhttp::request<bhttp::string_body>& request;
  std::function<bool(std::string_view)> write;  // false once the client is gone
  std::function<void()> wait_for_close;         // until the client closes its end
};

// A loopback server answering one connection at a time on its own thread,
// plain or TLS (client certificates signed by `client_ca` required when it
// is given); `answer` writes whatever raw response bytes the test wants.
class ScriptedServerForClientTest {
 public:
  using Answer = std::function<void(ScriptedConn&)>;

  ScriptedServerForClientTest(Answer answer, std::shared_ptr<asio::ssl::context> tls = nullptr)
      : answer_(std::move(answer)), tls_(std::move(tls)) {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Loop(); });
  }
  ~ScriptedServerForClientTest() {
    stopping_ = true;
    tcp::socket wake(ioc_);  // unblocks accept()
    beast::error_code ec;
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }

  std::string url() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }
  int failed_handshakes() const { return failed_handshakes_; }

  // A server context for `certs`, requiring client certificates from
  // `client_ca` unless it is "".
  static std::shared_ptr<asio::ssl::context> Tls(const testing::CertFiles& certs,
                                                 const std::string& client_ca) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->use_certificate_chain_file(certs.cert);
    ctx->use_private_key_file(certs.key, asio::ssl::context::pem);
    if (client_ca.empty()) return ctx;
    ctx->load_verify_file(client_ca);
    ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    return ctx;
  }

 private:
  void Loop() {
    while (true) {
      tcp::socket socket(ioc_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_) return;
      if (ec) continue;
      if (!tls_) {
        Serve(socket);
        continue;
      }
      asio::ssl::stream<tcp::socket&> stream(socket, *tls_);
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (ec) {
        ++failed_handshakes_;
        continue;
      }
      Serve(stream);
    }
  }

  template <typename Stream>
  void Serve(Stream& stream) {
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> request;
    beast::error_code ec;
    bhttp::read(stream, buffer, request, ec);
    if (ec) return;
    ScriptedConn conn{request,
                      [&](std::string_view bytes) {
                        beast::error_code wec;
                        asio::write(stream, asio::buffer(bytes.data(), bytes.size()), wec);
                        return !wec;
                      },
                      [&] {
                        char byte;
                        beast::error_code rec;
                        while (!rec) stream.read_some(asio::buffer(&byte, 1), rec);
                      }};
    answer_(conn);
  }

  Answer answer_;
  std::shared_ptr<asio::ssl::context> tls_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> failed_handshakes_{0};
  std::thread thread_;
};

const char kChunkedHeadForClientTest[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

// One chunk of a chunked body.
std::string ChunkForClientTest(std::string_view data) {
  char size[16];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

TEST(HttpClientTest, UrlsAndDefaultPorts) {
  auto plain = HttpClient::Create("http://hub.internal:8380/ignored/path");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)->host(), "hub.internal");
  EXPECT_EQ((*plain)->port(), "8380");
  auto bare = HttpClient::Create("127.0.0.1:9901");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ((*bare)->port(), "9901");
  auto https = HttpClient::Create("https://hub.internal");
  ASSERT_TRUE(https.ok()) << https.status();
  EXPECT_EQ((*https)->port(), "443");
  auto v6 = HttpClient::Create("https://[::1]:8443");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ((*v6)->host(), "::1");
  EXPECT_EQ((*v6)->port(), "8443");
  auto v6_default = HttpClient::Create("https://[::1]");
  ASSERT_TRUE(v6_default.ok()) << v6_default.status();
  EXPECT_EQ((*v6_default)->host(), "::1");
  EXPECT_EQ((*v6_default)->port(), "443");

  auto ftp = HttpClient::Create("ftp://hub.internal");
  EXPECT_TRUE(absl::IsInvalidArgument(ftp.status()));
  EXPECT_NE(ftp.status().message().find("https://"), std::string::npos);
}

TEST(HttpClientTest, CaFileErrorsNameTheFile) {
  HttpClient::Options options;
  options.ca_file = "/nonexistent/ca.crt";
  auto missing = HttpClient::Create("https://hub.internal:8443", options);
  EXPECT_TRUE(absl::IsInvalidArgument(missing.status())) << missing.status();
  EXPECT_NE(missing.status().message().find("/nonexistent/ca.crt"), std::string::npos)
      << missing.status();
  // A CA for a plain URL is a mistake worth saying.
  auto plain = HttpClient::Create("http://hub.internal:8380", options);
  EXPECT_TRUE(absl::IsInvalidArgument(plain.status())) << plain.status();
  EXPECT_NE(plain.status().message().find("not https://"), std::string::npos);
}

// Answers 200 with "hello " and the request's Authorization header.
void EchoAuthorizationForClientTest(ScriptedConn& conn) {
  const std::string body = "hello " + std::string(conn.request[bhttp::field::authorization]);
  conn.write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\nConnection: close\r\n\r\n" + body);
}

TEST(HttpClientTest, MutualTlsPresentsTheClientCertificate) {
  testing::TempDir dir;
  testing::TestCa ca(dir.path(), "mtls");
  ASSERT_TRUE(ca.ok());
  testing::CertFiles server_certs = ca.Issue("server", "localhost");
  testing::CertFiles client_certs = ca.Issue("client", "causeway-test-client");
  ASSERT_FALSE(client_certs.cert.empty());
  ScriptedServerForClientTest server(EchoAuthorizationForClientTest,
                                     ScriptedServerForClientTest::Tls(server_certs, ca.cert()));

  HttpClient::Options options;
  options.ca_pem = ReadWholeFileForClientTest(ca.cert());
  options.client_cert_pem = ReadWholeFileForClientTest(client_certs.cert);
  options.client_key_pem = ReadWholeFileForClientTest(client_certs.key);
  options.headers = {{"Authorization", "Bearer default-token"}};
  auto client = HttpClient::Create(server.url(), options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto res = (*client)->Send("GET", "/api/v1/pods");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "hello Bearer default-token");
  // A request's own header wins over the default of the same name.
  res = (*client)->Send("GET", "/api/v1/pods", {}, {{"authorization", "Bearer own"}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->body, "hello Bearer own");
  EXPECT_EQ(server.failed_handshakes(), 0);

  // Without the certificate the server refuses the handshake.
  options.client_cert_pem.clear();
  options.client_key_pem.clear();
  auto anonymous = HttpClient::Create(server.url(), options);
  ASSERT_TRUE(anonymous.ok()) << anonymous.status();
  EXPECT_FALSE((*anonymous)->Send("GET", "/api/v1/pods").ok());
  EXPECT_TRUE(testing::WaitFor([&] { return server.failed_handshakes() == 1; }));
}

TEST(HttpClientTest, ClientCertificateErrorsSayWhich) {
  HttpClient::Options options;
  options.client_cert_pem = "not a certificate";
  options.client_key_pem = "not a key";
  auto bad = HttpClient::Create("https://127.0.0.1:8443", options);
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  EXPECT_NE(bad.status().message().find("client certificate"), std::string::npos) << bad.status();
  options.client_key_pem.clear();
  auto no_key = HttpClient::Create("https://127.0.0.1:8443", options);
  EXPECT_TRUE(absl::IsInvalidArgument(no_key.status())) << no_key.status();
  EXPECT_NE(no_key.status().message().find("without its key"), std::string::npos)
      << no_key.status();
  HttpClient::Options bad_ca;
  bad_ca.ca_pem = "not a CA";
  auto ca = HttpClient::Create("https://127.0.0.1:8443", bad_ca);
  EXPECT_TRUE(absl::IsInvalidArgument(ca.status())) << ca.status();
}

TEST(HttpClientTest, StreamYieldsEachLineAsItArrives) {
  std::promise<void> first_line_read;
  std::future<void> first_line_read_future = first_line_read.get_future();
  ScriptedServerForClientTest server([&](ScriptedConn& conn) {
    conn.write(std::string(kChunkedHeadForClientTest) +
               ChunkForClientTest("{\"type\":\"ADDED\"}\n{\"type\":"));
    // The rest only once the client has the first line: lines are handed
    // out as they arrive, not when the body ends.
    if (first_line_read_future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      return;
    }
    conn.write(ChunkForClientTest("\"DELETED\"}\r\n") + "0\r\n\r\n");
  });
  auto client = HttpClient::Create(server.url());
  ASSERT_TRUE(client.ok()) << client.status();
  auto stream = (*client)->OpenStream("GET", "/watch");
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ((*stream)->head().status, 200);
  auto line = (*stream)->ReadLine(milliseconds(30000));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, std::optional<std::string>("{\"type\":\"ADDED\"}"));
  // Half a line is not a line: the wait ends at the deadline, and the
  // stream stays usable.
  auto partial = (*stream)->ReadLine(milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(partial.status())) << partial.status();
  first_line_read.set_value();
  line = (*stream)->ReadLine(milliseconds(30000));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, std::optional<std::string>("{\"type\":\"DELETED\"}"));
  line = (*stream)->ReadLine(milliseconds(30000));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, std::nullopt);
}

TEST(HttpClientTest, BodiesAndStreamLinesAreBoundedByMaxBodyBytes) {
  // Each connection answers with a body of the size the request names.
  ScriptedServerForClientTest server([](ScriptedConn& conn) {
    const size_t size = std::stoul(std::string(conn.request.target().substr(1)));
    if (conn.request.method() == bhttp::verb::get) {
      conn.write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(size) +
                 "\r\nConnection: close\r\n\r\n" + std::string(size, 'b'));
    } else {  // a stream: one line of `size` bytes, then its end
      conn.write(std::string(kChunkedHeadForClientTest) +
                 ChunkForClientTest(std::string(size, 'l') + "\n") + "0\r\n\r\n");
    }
  });
  HttpClient::Options options;
  options.max_body_bytes = 1000;
  auto client = HttpClient::Create(server.url(), options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto fits = (*client)->Send("GET", "/1000");
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(fits->body.size(), 1000u);
  auto too_big = (*client)->Send("GET", "/1001");
  EXPECT_TRUE(absl::IsResourceExhausted(too_big.status())) << too_big.status();
  EXPECT_NE(too_big.status().message().find("too large (larger than 1000 bytes)"),
            std::string::npos);
  // The client is still usable after a refused body.
  EXPECT_TRUE((*client)->Send("GET", "/10").ok());

  auto short_line = (*client)->OpenStream("POST", "/999");
  ASSERT_TRUE(short_line.ok()) << short_line.status();
  auto line = (*short_line)->ReadLine(milliseconds(30000));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->value_or("").size(), 999u);
  auto long_line = (*client)->OpenStream("POST", "/5000");
  ASSERT_TRUE(long_line.ok()) << long_line.status();
  auto refused = (*long_line)->ReadLine(milliseconds(30000));
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("longer than 1000 bytes"), std::string::npos);
}

TEST(HttpClientTest, TlsBodyCutShortIsAnErrorAndACompleteOneIsNot) {
  testing::TempDir dir;
  testing::TestCa ca(dir.path(), "cut");
  ASSERT_TRUE(ca.ok());
  testing::CertFiles server_certs = ca.Issue("server", "localhost");
  // The server goes away without close_notify in both cases: after the
  // last chunk (complete by its framing), or in the middle of the body.
  std::atomic<bool> complete{true};
  ScriptedServerForClientTest server(
      [&](ScriptedConn& conn) {
        conn.write(std::string(kChunkedHeadForClientTest) + ChunkForClientTest("line\n") +
                   (complete ? "0\r\n\r\n" : ""));
      },
      ScriptedServerForClientTest::Tls(server_certs, ""));
  HttpClient::Options options;
  options.ca_file = ca.cert();
  auto client = HttpClient::Create(server.url(), options);
  ASSERT_TRUE(client.ok()) << client.status();
  for (bool whole : {true, false}) {
    complete = whole;
    auto stream = (*client)->OpenStream("GET", "/watch");
    ASSERT_TRUE(stream.ok()) << stream.status();
    auto line = (*stream)->ReadLine(milliseconds(30000));
    ASSERT_TRUE(line.ok()) << line.status();
    EXPECT_EQ(*line, std::optional<std::string>("line"));
    auto end = (*stream)->ReadLine(milliseconds(30000));
    if (whole) {
      ASSERT_TRUE(end.ok()) << end.status();
      EXPECT_EQ(*end, std::nullopt);
    } else {
      EXPECT_TRUE(absl::IsUnavailable(end.status())) << end.status();
      EXPECT_NE(end.status().message().find("cut short"), std::string::npos) << end.status();
    }
  }
}

TEST(HttpClientTest, CancelEndsABlockedReadFromAnotherThread) {
  std::atomic<bool> request_arrived{false};
  ScriptedServerForClientTest server([&](ScriptedConn& conn) {
    request_arrived = true;
    conn.wait_for_close();  // never answers
  });
  HttpClient::Options options;
  options.timeout = std::chrono::minutes(10);  // only Cancel() can end the wait
  auto client = HttpClient::Create(server.url(), options);
  ASSERT_TRUE(client.ok()) << client.status();
  HttpClient* raw = client->get();
  auto send = std::async(std::launch::async, [raw] { return raw->Send("GET", "/slow"); });
  ASSERT_TRUE(testing::WaitFor([&] { return request_arrived.load(); }));
  raw->Cancel();
  ASSERT_EQ(send.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  absl::StatusOr<HttpResponse> res = send.get();
  EXPECT_TRUE(absl::IsCancelled(res.status())) << res.status();
  // Every later call is cancelled too, without connecting.
  EXPECT_TRUE(absl::IsCancelled(raw->Send("GET", "/again").status()));
  EXPECT_TRUE(absl::IsCancelled(raw->OpenStream("GET", "/again").status()));
}

TEST(HttpClientTest, CancelEndsABlockedStreamReadFromAnotherThread) {
  ScriptedServerForClientTest server([&](ScriptedConn& conn) {
    conn.write(std::string(kChunkedHeadForClientTest) + ChunkForClientTest("first\n"));
    conn.wait_for_close();  // then silence, as a quiet watch
  });
  auto client = HttpClient::Create(server.url());
  ASSERT_TRUE(client.ok()) << client.status();
  auto stream = (*client)->OpenStream("GET", "/watch");
  ASSERT_TRUE(stream.ok()) << stream.status();
  auto line = (*stream)->ReadLine(milliseconds(30000));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, std::optional<std::string>("first"));
  HttpClient::Stream* raw = stream->get();
  auto read =
      std::async(std::launch::async, [raw] { return raw->ReadLine(std::chrono::minutes(10)); });
  (*client)->Cancel();
  ASSERT_EQ(read.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  auto ended = read.get();
  EXPECT_TRUE(absl::IsCancelled(ended.status())) << ended.status();
}

}  // namespace
}  // namespace causeway
