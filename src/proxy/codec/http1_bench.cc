// Parses a typical proxied request head with this codec and with
// Boost.Beast's request_parser<empty_body>, the alternative considered.
// Run a Release build: `proxy_codec_bench [iterations]`; prints ns/parse.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "proxy/codec/http1.h"

namespace {

const std::string kHead =
    "GET /api/v1/users/12345/orders?limit=20&offset=40 HTTP/1.1\r\n"
    "Host: api.staging.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0\r\n"
    "Accept: application/json, text/plain, */*\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0\r\n"
    "Cookie: session=abcdef0123456789; theme=dark\r\n"
    "X-Request-Id: 7f9c2ba4-e88f-4bd2-a2b1-7e3a6b2f1c0d\r\n"
    "baggage: causeway-route=alice\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

template <typename F>
double NsPerOp(int iterations, F&& f) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) f();
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  return static_cast<double>(ns) / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 1000000;
  namespace http1 = causeway::proxy::http1;
  http1::RequestHead head;  // reused, as a session does
  size_t sink = 0;
  double ours = NsPerOp(iterations, [&] {
    bool too_large = false;
    size_t n = http1::FindHeadEnd(kHead, &too_large);
    http1::ParseResult r = http1::ParseRequestHead(std::string_view(kHead).substr(0, n), &head);
    sink += r.head_size + head.headers.size();
  });
  namespace http = boost::beast::http;
  double beast = NsPerOp(iterations, [&] {
    http::request_parser<http::empty_body> parser;
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(kHead), ec);
    sink += parser.get().count(http::field::host) + (ec ? 1 : 0);
  });
  std::printf("causeway http1: %8.1f ns/head\nbeast parser:   %8.1f ns/head\n(sink %zu)\n", ours,
              beast, sink);
  return 0;
}
