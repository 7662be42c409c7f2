#include "fake_kube_api.h"

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace causeway::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string Decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> Query(std::string_view target) {
  std::map<std::string, std::string> out;
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    out[Decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : Decode(pair.substr(eq + 1));
    rest = amp == std::string_view::npos ? "" : rest.substr(amp + 1);
  }
  return out;
}

// Equality ("k=v") and existence ("k") terms, comma-separated: what the
// collector sends.
bool Matches(const nlohmann::json& pod, const std::string& selector) {
  const auto labels = pod["metadata"].value("labels", nlohmann::json::object());
  size_t start = 0;
  while (start < selector.size()) {
    size_t end = selector.find(',', start);
    if (end == std::string::npos) end = selector.size();
    const std::string term = selector.substr(start, end - start);
    start = end + 1;
    const size_t eq = term.find('=');
    if (eq == std::string::npos) {
      if (!labels.contains(term)) return false;
    } else if (labels.value(term.substr(0, eq), "") != term.substr(eq + 1)) {
      return false;
    }
  }
  return true;
}

}  // namespace

FakeKubeApi::FakeKubeApi(const Tls& tls, int port) : FakeKubeApi(port) {
  // Set before any connection can be served: the accept thread reads tls_
  // only for connections accepted after a client learns url(), which needs
  // this constructor to have returned.
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  context->use_certificate_chain_file(tls.cert_file);
  context->use_private_key_file(tls.key_file, asio::ssl::context::pem);
  if (!tls.client_ca_file.empty()) {
    context->load_verify_file(tls.client_ca_file);
    context->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  std::lock_guard lock(mu_);
  tls_ = std::move(context);
}

void FakeKubeApi::RequireToken(const std::string& token) {
  std::lock_guard lock(mu_);
  required_token_ = token;
}

std::vector<std::string> FakeKubeApi::tokens_seen() const {
  std::lock_guard lock(mu_);
  return tokens_seen_;
}

int FakeKubeApi::unauthorized() const {
  std::lock_guard lock(mu_);
  return unauthorized_;
}

int FakeKubeApi::failed_handshakes() const {
  std::lock_guard lock(mu_);
  return failed_handshakes_;
}

FakeKubeApi::FakeKubeApi(int port)
    : acceptor_(ioc_,
                tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port))) {
  port_ = acceptor_.local_endpoint().port();
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

FakeKubeApi::~FakeKubeApi() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // Wake the blocking accept with a connection of our own.
  try {
    tcp::socket wake(ioc_);
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)));
  } catch (...) {
  }
  accept_thread_.join();
  for (auto& t : connections_) t.join();
}

void FakeKubeApi::AcceptLoop() {
  while (true) {
    tcp::socket socket(ioc_);
    beast::error_code ec;
    acceptor_.accept(socket, ec);
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (ec) continue;
    connections_.emplace_back([this, s = std::move(socket)]() mutable { Serve(std::move(s)); });
  }
}

void FakeKubeApi::Serve(tcp::socket socket) {
  asio::ssl::context* tls = nullptr;
  {
    std::lock_guard lock(mu_);
    tls = tls_.get();
  }
  if (tls == nullptr) {
    ServeOn(socket);
    return;
  }
  asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls);
  beast::error_code ec;
  stream.handshake(asio::ssl::stream_base::server, ec);
  if (ec) {
    std::lock_guard lock(mu_);
    ++failed_handshakes_;
    return;
  }
  ServeOn(stream);
}

template <class Stream>
void FakeKubeApi::ServeOn(Stream& socket) {
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  beast::error_code ec;
  http::read(socket, buffer, request, ec);
  if (ec) return;
  {
    std::string_view authorization = request[http::field::authorization];
    std::string token;
    if (authorization.starts_with("Bearer ")) token = std::string(authorization.substr(7));
    std::unique_lock lock(mu_);
    tokens_seen_.push_back(token);
    if (!required_token_.empty() && token != required_token_) {
      ++unauthorized_;
      lock.unlock();
      http::response<http::string_body> denied{http::status::unauthorized, 11};
      denied.set(http::field::content_type, "application/json");
      denied.body() = R"({"kind":"Status","status":"Failure","reason":"Unauthorized","code":401})";
      denied.keep_alive(false);
      denied.prepare_payload();
      http::write(socket, denied, ec);
      beast::get_lowest_layer(socket).shutdown(tcp::socket::shutdown_both, ec);
      return;
    }
  }
  const std::string target(request.target());
  const std::string path = target.substr(0, target.find('?'));
  auto query = Query(target);
  // /api/v1/namespaces/{ns}/pods
  const std::string prefix = "/api/v1/namespaces/";
  std::string ns;
  if (path.starts_with(prefix) && path.ends_with("/pods")) {
    ns = path.substr(prefix.size(), path.size() - prefix.size() - 5);
  }
  http::response<http::string_body> response{http::status::ok, 11};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(false);
  if (ns.empty() || request.method() != http::verb::get) {
    response.result(http::status::not_found);
    response.body() = R"({"kind":"Status","code":404})";
  } else if (query["watch"] == "1" || query["watch"] == "true") {
    const int64_t since =
        std::stoll(query["resourceVersion"].empty() ? "0" : query["resourceVersion"]);
    {
      std::lock_guard lock(mu_);
      ++watches_;
      last_watch_version_ = query["resourceVersion"];
    }
    ServeWatch(socket, ns, query["labelSelector"], since, query["allowWatchBookmarks"] == "true");
    return;
  } else {
    std::lock_guard lock(mu_);
    if (!ServeListPage(ns, query, response)) {
      response.result(http::status::gone);
    }
  }
  response.prepare_payload();
  http::write(socket, response, ec);
  beast::get_lowest_layer(socket).shutdown(tcp::socket::shutdown_both, ec);
}

bool FakeKubeApi::ServeListPage(const std::string& ns, std::map<std::string, std::string>& query,
                                http::response<http::string_body>& response) {
  const std::string token = query["continue"];
  const size_t limit = query["limit"].empty() ? 0 : std::stoul(query["limit"]);
  ListSnapshot snapshot;
  if (token.empty()) {
    ++lists_;
    snapshot.rv = rv_;
    snapshot.generation = compactions_;
    for (const auto& [name, pod] : pods_[ns]) {
      if (Matches(pod, query["labelSelector"])) snapshot.items.push_back(pod);
    }
  } else {
    auto it = snapshots_.find(token);
    if (it == snapshots_.end() || it->second.generation != compactions_ || expire_every_continue_) {
      // What the real server answers when etcd compacted the snapshot the
      // token points into.
      ++expired_continues_;
      response.body() = Json{
          {"kind", "Status"},
          {"apiVersion", "v1"},
          {"status", "Failure"},
          {"reason", "Expired"},
          {"message",
           "The provided continue parameter is too old to display a consistent list "
           "result. You can start a new list without the continue parameter."},
          {"code", 410}}.dump();
      return false;
    }
    snapshot = std::move(it->second);
    snapshots_.erase(it);
  }
  ++list_pages_;
  const size_t end =
      limit == 0 ? snapshot.items.size() : std::min(snapshot.items.size(), snapshot.offset + limit);
  Json items = Json::array();
  for (size_t i = snapshot.offset; i < end; ++i) items.push_back(snapshot.items[i]);
  Json metadata = {{"resourceVersion", std::to_string(snapshot.rv)}};
  if (end < snapshot.items.size()) {
    const std::string next = "page-" + std::to_string(++continue_counter_);
    metadata["continue"] = next;
    metadata["remainingItemCount"] = snapshot.items.size() - end;
    snapshot.offset = end;
    snapshots_[next] = std::move(snapshot);
  }
  response.body() = Json{
      {"kind", "PodList"},
      {"apiVersion", "v1"},
      {"metadata", metadata},
      {"items", items}}.dump();
  if (compact_after_pages_ > 0 && --compact_after_pages_ == 0) CompactLocked();
  return true;
}

template <class Stream>
void FakeKubeApi::ServeWatch(Stream& socket, const std::string& ns, const std::string& selector,
                             int64_t since, bool bookmarks) {
  beast::error_code ec;
  std::unique_lock lock(mu_);
  if (since < compacted_) {
    ++gone_;
    const Json status = {{"kind", "Status"},
                         {"status", "Failure"},
                         {"reason", "Expired"},
                         {"message", "too old resource version"},
                         {"code", 410}};
    if (gone_as_status_) {
      http::response<http::string_body> response{http::status::gone, 11};
      response.body() = status.dump();
      response.prepare_payload();
      lock.unlock();
      http::write(socket, response, ec);
      return;
    }
    lock.unlock();
    http::response<http::string_body> response{http::status::ok, 11};
    response.body() = Json{{"type", "ERROR"}, {"object", status}}.dump() + "\n";
    response.prepare_payload();
    http::write(socket, response, ec);
    return;
  }
  ++open_watches_;
  // Taken while the watch is counted open: a test that sees it open and then
  // asks for bookmarks or drops must reach this watch, even if the header
  // write below is slow.
  const uint64_t drop_at = drop_generation_;
  uint64_t bookmark_seen = bookmark_generation_;
  http::response<http::empty_body> head{http::status::ok, 11};
  head.set(http::field::content_type, "application/json");
  head.chunked(true);
  http::response_serializer<http::empty_body> serializer(head);
  lock.unlock();
  http::write_header(socket, serializer, ec);
  lock.lock();
  int64_t sent = since;
  while (!ec) {
    cv_.wait(lock, [&] {
      if (stopping_ || drop_generation_ != drop_at) return true;
      if (paused_) return false;
      return bookmark_generation_ != bookmark_seen ||
             (!events_.empty() && events_.back().rv > sent);
    });
    if (stopping_ || drop_generation_ != drop_at) break;
    std::string out;
    for (const Event& e : events_) {
      if (e.rv <= sent) continue;
      sent = e.rv;
      if (e.ns != ns || !Matches(e.object, selector)) continue;
      out += Json{{"type", e.type}, {"object", e.object}}.dump() + "\n";
    }
    if (bookmark_generation_ != bookmark_seen) {
      bookmark_seen = bookmark_generation_;
      if (bookmarks) {
        ++bookmarks_sent_;
        sent = rv_;
        out += Json{{"type", "BOOKMARK"},
                    {"object",
                     {{"kind", "Pod"},
                      {"apiVersion", "v1"},
                      {"metadata", {{"resourceVersion", std::to_string(rv_)}}}}}}
                   .dump() +
               "\n";
      }
    }
    if (out.empty()) continue;
    lock.unlock();
    asio::write(socket, http::make_chunk(asio::buffer(out)), ec);
    lock.lock();
  }
  --open_watches_;
  lock.unlock();
  // Abrupt close: no last chunk, so the client sees a broken stream.
  beast::get_lowest_layer(socket).shutdown(tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(socket).close(ec);
}

void FakeKubeApi::AddEvent(const std::string& ns, const std::string& type, const Json& object) {
  events_.push_back(Event{rv_, ns, type, object});
  cv_.notify_all();
}

void FakeKubeApi::Apply(const std::string& ns, Json pod) {
  std::lock_guard lock(mu_);
  const std::string name = pod["metadata"]["name"];
  pod["metadata"]["namespace"] = ns;
  pod["metadata"]["resourceVersion"] = std::to_string(++rv_);
  const bool exists = pods_[ns].contains(name);
  pods_[ns][name] = pod;
  AddEvent(ns, exists ? "MODIFIED" : "ADDED", pod);
}

void FakeKubeApi::Delete(const std::string& ns, const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = pods_[ns].find(name);
  if (it == pods_[ns].end()) return;
  Json pod = it->second;
  pods_[ns].erase(it);
  pod["metadata"]["resourceVersion"] = std::to_string(++rv_);
  AddEvent(ns, "DELETED", pod);
}

void FakeKubeApi::Compact() {
  std::lock_guard lock(mu_);
  CompactLocked();
}

void FakeKubeApi::CompactLocked() {
  compacted_ = rv_;
  ++compactions_;
  events_.clear();
}

void FakeKubeApi::CompactAfterListPages(int pages) {
  std::lock_guard lock(mu_);
  compact_after_pages_ = pages;
}

void FakeKubeApi::Use410Status(bool status) {
  std::lock_guard lock(mu_);
  gone_as_status_ = status;
}

void FakeKubeApi::ExpireEveryContinueToken(bool expire) {
  std::lock_guard lock(mu_);
  expire_every_continue_ = expire;
}

void FakeKubeApi::SendBookmarks() {
  std::lock_guard lock(mu_);
  ++bookmark_generation_;
  cv_.notify_all();
}

void FakeKubeApi::DropWatches() {
  std::lock_guard lock(mu_);
  ++drop_generation_;
  cv_.notify_all();
}

void FakeKubeApi::PauseWatches(bool paused) {
  std::lock_guard lock(mu_);
  paused_ = paused;
  cv_.notify_all();
}

int FakeKubeApi::lists() const {
  std::lock_guard lock(mu_);
  return lists_;
}
int FakeKubeApi::list_pages() const {
  std::lock_guard lock(mu_);
  return list_pages_;
}
int FakeKubeApi::expired_continues() const {
  std::lock_guard lock(mu_);
  return expired_continues_;
}
int FakeKubeApi::watches() const {
  std::lock_guard lock(mu_);
  return watches_;
}
int FakeKubeApi::open_watches() const {
  std::lock_guard lock(mu_);
  return open_watches_;
}
int FakeKubeApi::gone_responses() const {
  std::lock_guard lock(mu_);
  return gone_;
}
int FakeKubeApi::bookmarks_sent() const {
  std::lock_guard lock(mu_);
  return bookmarks_sent_;
}
std::string FakeKubeApi::last_watch_version() const {
  std::lock_guard lock(mu_);
  return last_watch_version_;
}
int64_t FakeKubeApi::resource_version() const {
  std::lock_guard lock(mu_);
  return rv_;
}

FakeKubeApi::Json FakeKubeApi::Pod(const std::string& name, const std::string& cluster,
                                   const std::string& ip, bool ready, int port) {
  Json labels = Json::object();
  if (!cluster.empty()) labels["causeway.io/cluster"] = cluster;
  labels["app"] = cluster.empty() ? "other" : cluster;
  return Json{
      {"kind", "Pod"},
      {"apiVersion", "v1"},
      {"metadata", {{"name", name}, {"labels", labels}}},
      {"spec",
       {{"nodeName", "node-1"},
        {"containers",
         Json::array({{{"name", "app"},
                       {"ports", Json::array({{{"name", "http"}, {"containerPort", port}}})}}})}}},
      {"status",
       {{"phase", "Running"},
        {"podIP", ip},
        {"hostIP", "192.168.1.10"},
        {"conditions", Json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}}}};
}

}  // namespace causeway::testing
