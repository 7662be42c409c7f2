#include "discovery/replica/zone_watcher.h"

#include <algorithm>
#include <limits>

#include "absl/strings/numbers.h"
#include "common/strings.h"
#include "discovery/sync/rest_hub_api.h"
#include "spdlog/spdlog.h"

namespace causeway::discovery {
namespace {

using model::Json;

absl::StatusOr<model::Object> ObjectFromApiJson(const Json& j) {
  auto parsed = model::ParseAnyObject(j);
  if (!parsed.ok()) return parsed.status();
  model::Object object;
  object.key = parsed->key;
  object.version = parsed->version.value_or(0);
  object.spec = std::move(parsed->spec);
  return object;
}

absl::StatusOr<int64_t> ParseRevision(const Json& j) {
  int64_t revision = 0;
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_string() && absl::SimpleAtoi(ToAbsl(j.get<std::string>()), &revision)) return revision;
  return absl::InvalidArgumentError("hub: bad revision");
}

}  // namespace

ZoneWatcher::ZoneWatcher(std::string hub_url, std::string token, ZoneReplica* replica,
                         Options options)
    : hub_url_(std::move(hub_url)),
      token_(std::move(token)),
      replica_(replica),
      options_(options) {}

ZoneWatcher::~ZoneWatcher() { Stop(); }

void ZoneWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ZoneWatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

HttpClient::Headers ZoneWatcher::Auth() const {
  HttpClient::Headers headers;
  if (!token_.empty()) headers["Authorization"] = StrCat("Bearer ", token_);
  return headers;
}

void ZoneWatcher::Run() {
  auto backoff = options_.min_backoff;
  bool was_connected = false;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::Status status;
    HttpClient::Options client_options{std::chrono::seconds(5)};
    client_options.ca_file = options_.ca_file;
    const std::string url = options_.hub_url ? options_.hub_url() : hub_url_;
    auto client = HttpClient::Create(url, client_options);
    if (!client.ok()) {
      status = client.status();
    } else {
      if (!replica_->hub_loaded() || relist_) {
        relist_ = false;
        status = Load(**client);
      }
      if (status.ok()) {
        auto opened_at = std::chrono::steady_clock::now();
        status = Follow(**client);
        // A stream that lived a while was healthy: start the backoff afresh.
        if (std::chrono::steady_clock::now() - opened_at > std::chrono::seconds(5)) {
          backoff = options_.min_backoff;
        }
        was_connected = true;
      }
    }
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      if (options_.hub_failed && !relist_ && (was_connected || !status.ok())) {
        options_.hub_failed(url, status.ok() ? absl::UnavailableError("watch closed") : status);
      }
      if (was_connected || !status.ok()) {
        spdlog::warn(
            "discovery: watch of zone {} on the hub ended ({}); serving the last copy "
            "(revision {}), retrying in {} ms",
            replica_->zone(), status.ok() ? "closed" : status.ToString(), replica_->hub_revision(),
            backoff.count());
        was_connected = false;
      }
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::FromChrono(backoff))) return;
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

absl::Status ZoneWatcher::Load(HttpClient& client) {
  const std::string& zone = replica_->zone();
  std::vector<model::Object> objects;
  int64_t revision = std::numeric_limits<int64_t>::max();
  // Each list is consistent in itself; the watch then replays from the
  // oldest of their revisions, so changes between the lists are applied in
  // order and the copy converges on the hub's state.
  for (model::Kind kind : model::kAllKinds) {
    if (kind == model::Kind::kZone) continue;
    const std::string target = StrCat("/v1/zones/", zone, "/", model::KindPath(kind));
    auto response = client.Send("GET", target, {}, Auth());
    if (!response.ok()) return response.status();
    if (response->status == 404) {
      revision = 0;  // no zone yet: follow from the start, it may appear
      continue;
    }
    if (response->status != 200) return HttpError(*response, StrCat("list ", target));
    const Json body = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object() || !body.contains("items")) {
      return absl::UnavailableError(ToAbsl(StrCat("list ", target, ": not a list")));
    }
    auto list_revision = ParseRevision(body.value("revision", Json(nullptr)));
    if (!list_revision.ok()) return list_revision.status();
    revision = std::min(revision, *list_revision);
    for (const Json& item : body["items"]) {
      auto object = ObjectFromApiJson(item);
      if (!object.ok()) return object.status();
      objects.push_back(*std::move(object));
    }
  }
  // The zone object last, so that it is at least as new as the revision the
  // watch resumes from.
  auto response = client.Send("GET", StrCat("/v1/zones/", zone), {}, Auth());
  if (!response.ok()) return response.status();
  if (response->status == 200) {
    auto object = ObjectFromApiJson(Json::parse(response->body, nullptr, false));
    if (!object.ok()) return object.status();
    objects.push_back(*std::move(object));
  } else if (response->status != 404) {
    return HttpError(*response, StrCat("get zone ", zone));
  }
  if (revision == std::numeric_limits<int64_t>::max()) revision = 0;
  spdlog::info("discovery: loaded {} object(s) of zone {} from the hub at revision {}",
               objects.size(), zone, revision);
  replica_->ResetHub(std::move(objects), revision);
  return absl::OkStatus();
}

absl::Status ZoneWatcher::Follow(HttpClient& client) {
  const int64_t since = replica_->hub_revision();
  auto stream = client.OpenStream(
      "GET", StrCat("/v1/watch?since=", since, "&zone=", replica_->zone()), Auth());
  if (!stream.ok()) return stream.status();
  if ((*stream)->head().status != 200) {
    HttpResponse head = (*stream)->head();
    if (head.status == 410) {
      // The hub's history is not the one this copy followed (restored from a
      // backup, or a new database): its revisions restarted below ours, so
      // following from ours would skip everything up to it. List again.
      // Not caught: a replaced hub that has already passed our revision when
      // we reconnect (telling that apart needs a fingerprint of the change
      // at our revision).
      // Also when the hub's change log no longer reaches back to our
      // revision (--history-retention compacted it): the same remedy.
      spdlog::warn(
          "discovery: zone {}: the hub cannot replay its changes after revision {} (its "
          "history was compacted or replaced), loading the zone again",
          replica_->zone(), since);
      relist_ = true;
    }
    for (;;) {
      auto line = (*stream)->ReadLine(std::chrono::seconds(2));
      if (!line.ok() || !line->has_value()) break;
      head.body += **line;
    }
    return HttpError(head, "watch");
  }
  connected_.store(true);
  spdlog::info("discovery: following zone {} on the hub from revision {}", replica_->zone(), since);
  struct Disconnect {
    std::atomic<bool>* connected;
    ~Disconnect() { connected->store(false); }
  } disconnect{&connected_};
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return absl::OkStatus();
    }
    // Short reads so Stop() is noticed; the hub sends keep-alives every 15 s,
    // a dead connection shows after 40 s without a byte.
    auto event = (*stream)->NextEvent(std::chrono::milliseconds(500));
    if (!event.ok()) {
      if (absl::IsDeadlineExceeded(event.status())) continue;
      return event.status();
    }
    if (!event->has_value()) return absl::OkStatus();  // the hub ended the stream
    const SseEvent& e = **event;
    if (e.event == "error") return absl::UnavailableError(ToAbsl(StrCat("watch: ", e.data)));
    if (e.event != "change") continue;
    absl::Status applied = ApplyEvent(e.data);
    if (!applied.ok()) return applied;
  }
}

absl::Status ZoneWatcher::ApplyEvent(const std::string& data) {
  const Json change = Json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!change.is_object()) return absl::InvalidArgumentError("watch: an event is not JSON");
  auto revision = ParseRevision(change.value("revision", Json(nullptr)));
  if (!revision.ok()) return revision.status();
  if (*revision <= replica_->hub_revision()) return absl::OkStatus();  // already applied
  auto kind = model::ParseKind(change.value("kind", ""));
  if (!kind) return absl::InvalidArgumentError("watch: an event without a known kind");
  model::ObjectKey key{*kind, change.value("zone", ""), change.value("name", "")};
  if (*kind == model::Kind::kZone && key.zone.empty()) key.zone = key.name;
  std::optional<model::Object> after;
  if (change.contains("after") && !change["after"].is_null()) {
    auto object = ObjectFromApiJson(change["after"]);
    if (!object.ok()) return object.status();
    after = *std::move(object);
  }
  replica_->ApplyHub(key, std::move(after), *revision);
  return absl::OkStatus();
}

}  // namespace causeway::discovery
