#include "discovery/agent/proxy_reporter.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "common/strings.h"
#include "discovery/sync/rest_hub_api.h"
#include "spdlog/spdlog.h"
#include "xds/relay_report.h"

namespace causeway::discovery {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// `s` cut to at most `max` bytes on a UTF-8 character boundary.
void Cut(json* v, size_t max) {
  if (v == nullptr || !v->is_string()) return;
  auto& s = v->get_ref<std::string&>();
  if (s.size() <= max) return;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
}

json* Member(json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string BuildProxyReport(const json& zone_status, std::chrono::milliseconds interval,
                             size_t max_bytes) {
  std::vector<json> streams;
  if (zone_status.contains("proxies") && zone_status["proxies"].is_array()) {
    streams.reserve(zone_status["proxies"].size());
    for (json stream : zone_status["proxies"]) {
      if (!stream.is_object()) continue;
      for (const char* key : {"node_id", "proxy", "zone", "peer"}) {
        Cut(Member(stream, key), xds::kMaxReportIdLength);
      }
      if (json* types = Member(stream, "types"); types != nullptr && types->is_object()) {
        for (auto& [name, t] : types->items()) {
          if (!t.is_object()) continue;
          // The names a proxy subscribes to follow from its configuration
          // (GET .../proxies/{name}/config); they would make the report grow
          // with the zone.
          t.erase("resource_names");
          Cut(Member(t, "version_sent"), xds::kMaxReportVersionLength);
          Cut(Member(t, "version_acked"), xds::kMaxReportVersionLength);
          if (json* nack = Member(t, "last_nack"); nack != nullptr && nack->is_object()) {
            Cut(Member(*nack, "message"), xds::kMaxReportMessageLength);
            Cut(Member(*nack, "version"), xds::kMaxReportVersionLength);
          }
        }
      }
      streams.push_back(std::move(stream));
    }
  }
  std::sort(streams.begin(), streams.end(), [](const json& a, const json& b) {
    return std::make_pair(a.value("proxy", ""), a.value("node_id", "")) <
           std::make_pair(b.value("proxy", ""), b.value("node_id", ""));
  });
  const int64_t revision =
      zone_status.contains("revision") && zone_status["revision"].is_number_integer()
          ? zone_status["revision"].get<int64_t>()
          : 0;
  // {"interval_ms":N,"revision":N,"omitted":N,"proxies":[...]}, the list
  // written by hand so that it stops where the bound is.
  const size_t total = streams.size();
  std::string list;
  size_t included = 0;
  const size_t head_room = 128;  // the other fields, with 20-digit numbers
  for (const json& stream : streams) {
    if (included == xds::kMaxReportedProxies) break;
    std::string text = Dump(stream);
    if (head_room + list.size() + text.size() + 1 > max_bytes) break;
    if (!list.empty()) list += ',';
    list += text;
    ++included;
  }
  return StrCat(
      "{\"interval_ms\":", static_cast<int64_t>(interval.count()), ",\"revision\":", revision,
      ",\"omitted\":", static_cast<uint64_t>(total - included), ",\"proxies\":[", list, "]}");
}

ProxyReporter::ProxyReporter(Options options, std::function<json()> zone_status, Sender sender)
    : options_(std::move(options)),
      zone_status_(std::move(zone_status)),
      sender_(std::move(sender)) {}

ProxyReporter::~ProxyReporter() { Stop(); }

ProxyReporter::Sender ProxyReporter::HttpSender(std::shared_ptr<HubList> hubs, std::string token,
                                                std::string ca_file) {
  // One connection, used by the reporting thread and then by Stop; opened
  // again when the agent has moved to another hub.
  struct State {
    std::shared_ptr<HubList> hubs;
    std::string token, ca_file;
    std::string url;  // the hub `client` is connected to
    std::unique_ptr<HttpClient> client;
  };
  auto state = std::make_shared<State>(
      State{std::move(hubs), std::move(token), std::move(ca_file), "", nullptr});
  return [state](std::string_view method, const std::string& target,
                 const std::string& body) -> absl::StatusOr<HttpResponse> {
    const std::string url = state->hubs->Current();
    if (url != state->url) state->client.reset();
    if (state->client == nullptr) {
      HttpClient::Options options;
      options.timeout = std::chrono::seconds(5);
      options.ca_file = state->ca_file;
      auto created = HttpClient::Create(url, options);
      if (!created.ok()) return created.status();
      state->client = *std::move(created);
      state->url = url;
    }
    HttpClient::Headers headers;
    if (!state->token.empty()) headers["Authorization"] = "Bearer " + state->token;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    auto response = state->client->Send(method, target, body, headers);
    if (!response.ok()) {
      state->client.reset();  // a new connection next time
      state->hubs->Failed(url, response.status());
    } else if (response->status >= 500) {
      state->hubs->Failed(
          url, absl::UnavailableError(ToAbsl(StrCat("proxy report: HTTP ", response->status))));
    }
    return response;
  };
}

std::string ProxyReporter::Target() const {
  return StrCat("/v1/zones/", options_.zone, "/agents/", options_.agent, "/proxies");
}

void ProxyReporter::Start() {
  absl::MutexLock lock(&mu_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void ProxyReporter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (!running_) return;
    running_ = false;
    stopping_ = true;
    cv_.SignalAll();
  }
  thread_.join();
  auto response = sender_("DELETE", Target(), "");
  if (response.ok() && response->status == 200) {
    spdlog::info("discovery: withdrew the proxy report of agent {} from the hub", options_.agent);
  }
}

void ProxyReporter::Changed() {
  const auto now = Clock::now();
  absl::MutexLock lock(&mu_);
  last_change_ = now;
  if (dirty_) return;  // the thread already waits for the end of this burst
  dirty_ = true;
  first_change_ = now;
  cv_.SignalAll();
}

void ProxyReporter::Run() {
  mu_.Lock();
  std::optional<Clock::time_point> last_report;
  while (!stopping_) {
    const auto now = Clock::now();
    Clock::time_point due = last_report ? *last_report + options_.interval : now;
    if (dirty_) {
      Clock::time_point change_due =
          std::min(last_change_ + options_.quiet, first_change_ + options_.max_delay);
      if (last_report) change_due = std::max(change_due, *last_report + options_.min_gap);
      due = std::min(due, change_due);
    }
    if (now < due) {
      cv_.WaitWithTimeout(&mu_, absl::FromChrono(due - now));
      continue;
    }
    dirty_ = false;
    last_report = now;
    mu_.Unlock();
    Report();
    mu_.Lock();
  }
  mu_.Unlock();
}

void ProxyReporter::Report() {
  const std::string body = BuildProxyReport(zone_status_(), options_.interval, options_.max_bytes);
  auto response = sender_("PUT", Target(), body);
  std::string error;
  if (!response.ok()) {
    error = std::string(FromAbsl(response.status().message()));
  } else if (response->status != 200) {
    error = std::string(FromAbsl(HttpError(*response, "report proxies").message()));
  }
  (error.empty() ? reports_ok_ : reports_failed_)++;
  Note(error);
}

void ProxyReporter::Note(const std::string& error) {
  if (last_error_ && *last_error_ == error) return;
  if (!error.empty()) {
    spdlog::warn(
        "discovery: reporting the relay's proxies to the hub failed (retrying every "
        "change and every {} ms): {}",
        options_.interval.count(), error);
  } else if (last_error_) {
    spdlog::info("discovery: reporting the relay's proxies to the hub again");
  } else {
    spdlog::info("discovery: reporting the relay's proxies to the hub as agent {} every {} ms",
                 options_.agent, options_.interval.count());
  }
  last_error_ = error;
}

}  // namespace causeway::discovery
