// A simulated Kubernetes API server for the pod collector's tests.
//
// Simulated because no Kubernetes cluster can run on the machines that build
// and test causeway (no container runtime, no kubelet). It implements what
// the collector relies on, the way the real API server behaves:
//   GET /api/v1/namespaces/{ns}/pods?labelSelector=...&limit=N     PodList with
//       metadata.resourceVersion; with `limit`, pages of a snapshot taken at the
//       first page, linked by metadata.continue tokens (remainingItemCount
//       too); a token whose snapshot was compacted away gets 410 Gone
//       (reason Expired), as etcd's compaction does to the real server
//   GET ...?watch=1&resourceVersion=RV&allowWatchBookmarks=true   a chunked
//       stream of {"type","object"} lines: every change after RV, then live
//       ones; BOOKMARK events on request; a version older than the retained
//       history gets 410 Gone (as an ERROR event in a 200 stream, as the real
//       server does, or as an HTTP 410 status).
// One resourceVersion counter is shared by all namespaces, as in etcd.
// Optionally over TLS with its own certificate (and client certificates
// required, as an API server with client-CA authentication does), and with
// a bearer token required: a request without the expected token is 401.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"

namespace causeway::testing {

class FakeKubeApi {
 public:
  using Json = nlohmann::json;

  // Listens on `port` of 127.0.0.1 (0: one the kernel picks).
  explicit FakeKubeApi(int port = 0);
  // The same over TLS: PEM files of the server's certificate and key, and,
  // when `client_ca_file` is set, client certificates signed by it required.
  struct Tls {
    std::string cert_file;
    std::string key_file;
    std::string client_ca_file;
  };
  explicit FakeKubeApi(const Tls& tls, int port = 0);
  ~FakeKubeApi();

  std::string url() const {
    return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
  }

  // Only requests with `Authorization: Bearer TOKEN` are served; others get
  // 401 (an empty token: no check).
  void RequireToken(const std::string& token);
  // Bearer tokens of the requests so far, in order ("" for none).
  std::vector<std::string> tokens_seen() const;
  int unauthorized() const;       // requests answered 401
  int failed_handshakes() const;  // TLS handshakes that did not complete

  // Creates or replaces a pod (ADDED or MODIFIED event).
  void Apply(const std::string& ns, Json pod);
  void Delete(const std::string& ns, const std::string& name);

  // Forgets the history up to now: a watch from an older version gets 410,
  // and so does a list continued with a token taken before.
  void Compact();
  // Compacts once, right after serving this many more list pages: the next
  // page of a list in progress then meets an expired continue token.
  void CompactAfterListPages(int pages);
  // Every continue token is answered 410 Gone: no list of more than one page
  // ever completes.
  void ExpireEveryContinueToken(bool expire);
  // 410 as an HTTP status instead of an ERROR event in the stream.
  void Use410Status(bool status);
  // Every open watch gets a BOOKMARK with the current resourceVersion.
  void SendBookmarks();
  // Closes every open watch abruptly (no final chunk), like a lost connection.
  void DropWatches();
  // While paused, open watches send nothing (events are kept).
  void PauseWatches(bool paused);

  int lists() const;  // first pages (a list may take several pages)
  int list_pages() const;
  int expired_continues() const;
  int watches() const;
  int open_watches() const;
  int gone_responses() const;
  int bookmarks_sent() const;
  std::string last_watch_version() const;
  int64_t resource_version() const;

  // A pod with the cluster label, one container port named "http".
  static Json Pod(const std::string& name, const std::string& cluster, const std::string& ip,
                  bool ready, int port = 8080);

 private:
  struct Event {
    int64_t rv;
    std::string ns;
    std::string type;
    Json object;
  };

  // The items of one list, frozen at its first page, and how far it got.
  struct ListSnapshot {
    int64_t rv = 0;
    uint64_t generation = 0;  // compactions_ when taken
    std::vector<Json> items;
    size_t offset = 0;
  };

  void AcceptLoop();
  // Fills `response` with a page; false (and a 410 Status body) for an
  // expired continue token. Holds mu_.
  bool ServeListPage(const std::string& ns, std::map<std::string, std::string>& query,
                     boost::beast::http::response<boost::beast::http::string_body>& response);
  void CompactLocked();
  void Serve(boost::asio::ip::tcp::socket socket);
  // One request on `stream` (a TCP socket, or a TLS stream over one).
  template <class Stream>
  void ServeOn(Stream& stream);
  template <class Stream>
  void ServeWatch(Stream& stream, const std::string& ns, const std::string& selector, int64_t since,
                  bool bookmarks);
  void AddEvent(const std::string& ns, const std::string& type, const Json& object);

  boost::asio::io_context ioc_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // null: plain HTTP
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::thread accept_thread_;
  std::vector<std::thread> connections_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int64_t rv_ = 100;
  int64_t compacted_ = 0;  // events with rv <= compacted_ are forgotten
  uint64_t compactions_ = 0;
  int compact_after_pages_ = 0;
  bool expire_every_continue_ = false;
  uint64_t continue_counter_ = 0;
  std::map<std::string, ListSnapshot> snapshots_;  // by continue token
  int list_pages_ = 0, expired_continues_ = 0;
  bool gone_as_status_ = false;
  bool paused_ = false;
  uint64_t bookmark_generation_ = 0;
  uint64_t drop_generation_ = 0;
  std::map<std::string, std::map<std::string, Json>> pods_;
  std::vector<Event> events_;
  int lists_ = 0, watches_ = 0, open_watches_ = 0, gone_ = 0, bookmarks_sent_ = 0;
  std::string last_watch_version_;
  std::string required_token_;
  std::vector<std::string> tokens_seen_;
  int unauthorized_ = 0, failed_handshakes_ = 0;
};

}  // namespace causeway::testing
