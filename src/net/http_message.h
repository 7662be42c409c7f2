// The request/response types handlers see, independent of Beast's.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "boost/asio/awaitable.hpp"

namespace causeway::http {

struct Request {
  std::string method;                          // "GET"
  std::string target;                          // raw target, "/v1/zones?x=1"
  std::string path;                            // "/v1/zones" (still percent-encoded)
  std::map<std::string, std::string> query;    // decoded; last value wins
  std::map<std::string, std::string> headers;  // names lowercased
  std::map<std::string, std::string> params;   // path captures, decoded (set by the Router)
  std::string body;
  std::string remote;  // "ip:port" of the peer
  // "ip:port" this connection reached ("[ip]:port" for IPv6): the address
  // the client dialled, even when the server listens on a wildcard.
  std::string local;
  std::string actor;  // set once authenticated, for the access log

  std::string Header(std::string_view name) const;
  // The query parameter or "" when absent.
  std::string Query(std::string_view name) const;
  std::string Param(std::string_view name) const;
};

// Writes the body of a streamed response; used from the stream coroutine
// (on the connection's strand).
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Sends `data` as one chunk. False when the peer went away.
  virtual boost::asio::awaitable<bool> Write(std::string data) = 0;
  // Waits until `deadline`, or earlier when Wake() is called or the server
  // starts shutting down.
  virtual boost::asio::awaitable<void> WaitUntil(
      std::chrono::steady_clock::time_point deadline) = 0;
  // Thread-safe: ends a WaitUntil early.
  virtual void Wake() = 0;
  // True once the stream should end: the server is shutting down, or the
  // client went away.
  virtual bool Stopping() const = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the server sends the status and headers, then runs `stream`
  // to produce the body (chunked) until it returns; the connection then
  // closes. Used for server-sent events.
  std::function<boost::asio::awaitable<void>(StreamWriter&)> stream;

  static Response Json(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static Response Text(int status, std::string body, std::string content_type = "text/plain") {
    Response r;
    r.status = status;
    r.content_type = std::move(content_type);
    r.body = std::move(body);
    return r;
  }
};

// Decodes %XX escapes ('+' stays '+': paths and our query values use %20).
// False on a malformed escape.
bool PercentDecode(std::string_view in, std::string* out);

// Splits "path?query" into the path and decoded query parameters.
bool ParseTarget(std::string_view target, std::string* path,
                 std::map<std::string, std::string>* query);

}  // namespace causeway::http
