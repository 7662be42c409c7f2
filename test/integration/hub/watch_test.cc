// /v1/watch: every change after a revision exactly once, in order, then
// live; also across a hub restart.
#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

int64_t Revision(Api& api) {
  return std::stoll(api.Get("/v1/zones").body["revision"].get<std::string>());
}

std::unique_ptr<HttpClient::Stream> OpenWatch(const HubProcess& hub, const std::string& token,
                                              const std::string& query) {
  auto client = HttpClient::Create(hub.url());
  EXPECT_TRUE(client.ok());
  auto stream =
      (*client)->OpenStream("GET", "/v1/watch?" + query, {{"Authorization", "Bearer " + token}});
  EXPECT_TRUE(stream.ok()) << stream.status();
  if (!stream.ok()) return nullptr;
  EXPECT_EQ((*stream)->head().status, 200);
  EXPECT_EQ((*stream)->head().Header("content-type"), "text/event-stream");
  return std::move(*stream);
}

// Reads events until `count` arrived (or the deadline passed).
std::vector<Json> ReadEvents(HttpClient::Stream& stream, size_t count,
                             milliseconds timeout = milliseconds(20000)) {
  std::vector<Json> events;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (events.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    auto event = stream.NextEvent(left);
    if (!event.ok() || !event->has_value()) break;
    Json data = Json::parse((*event)->data);
    EXPECT_EQ((*event)->id, data["revision"].get<std::string>());
    events.push_back(std::move(data));
  }
  return events;
}

void ExpectDense(const std::vector<Json>& events, int64_t first) {
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(std::stoll(events[i]["revision"].get<std::string>()), first + static_cast<int64_t>(i))
        << events[i].dump();
  }
}

TEST(WatchTest, ReplaysThenFollowsLive) {
  HubProcess hub;
  hub.Start();
  Api admin(hub.url(), hub.admin_token());
  SeedZone(admin, "dev");  // revisions 1..6
  auto stream = OpenWatch(hub, hub.admin_token(), "since=2");
  ASSERT_NE(stream, nullptr);
  auto replayed = ReadEvents(*stream, 4);
  ASSERT_EQ(replayed.size(), 4u);
  ExpectDense(replayed, 3);
  EXPECT_EQ(replayed[0]["op"], "create");
  EXPECT_EQ(replayed[0]["actor"], "admin");
  EXPECT_EQ(replayed[0]["kind"], "Domain");

  ASSERT_EQ(admin.Post("/v1/zones/dev/clusters", {{"name", "live"}}).status, 201);
  auto live = ReadEvents(*stream, 1);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0]["revision"], "7");
  EXPECT_EQ(live[0]["name"], "live");
  EXPECT_TRUE(live[0]["before"].is_null());
  EXPECT_EQ(live[0]["after"]["name"], "live");
}

TEST(WatchTest, NoGapsOrDuplicatesWhileWritesRace) {
  HubProcess hub;
  hub.Start();
  Api admin(hub.url(), hub.admin_token());
  ASSERT_EQ(admin.Post("/v1/zones", {{"name", "dev"}}).status, 201);
  const int kWrites = 300;
  std::atomic<int> done{0};
  std::thread writer([&] {
    Api api(hub.url(), hub.admin_token());
    for (int i = 0; i < kWrites; ++i) {
      if (api.Post("/v1/zones/dev/clusters", {{"name", "c" + std::to_string(i)}}).status == 201) {
        ++done;
      }
    }
  });
  // Subscribe in the middle of the burst, from revision 1.
  ASSERT_TRUE(WaitFor([&] { return done.load() >= 50; }));
  auto stream = OpenWatch(hub, hub.admin_token(), "since=1");
  ASSERT_NE(stream, nullptr);
  writer.join();
  ASSERT_EQ(done.load(), kWrites);
  auto events = ReadEvents(*stream, kWrites);
  ASSERT_EQ(events.size(), static_cast<size_t>(kWrites));
  ExpectDense(events, 2);
  // Nothing more than that.
  auto extra = stream->NextEvent(milliseconds(300));
  EXPECT_TRUE(absl::IsDeadlineExceeded(extra.status()));
}

TEST(WatchTest, ResumesAcrossRestartExactlyOnce) {
  HubProcess hub;
  hub.Start();
  Api admin(hub.url(), hub.admin_token());
  SeedZone(admin, "dev");
  int64_t r = Revision(admin);
  auto stream = OpenWatch(hub, hub.admin_token(), "since=" + std::to_string(r));
  ASSERT_NE(stream, nullptr);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(admin.Post("/v1/zones/dev/clusters", {{"name", "a" + std::to_string(i)}}).status,
              201);
  }
  auto first = ReadEvents(*stream, 5);
  ASSERT_EQ(first.size(), 5u);
  ExpectDense(first, r + 1);

  // SIGTERM ends the stream cleanly.
  hub.Stop();
  auto end = stream->NextEvent(milliseconds(5000));
  EXPECT_TRUE(end.ok() && !end->has_value()) << end.status();

  hub.Start();
  Api again(hub.url(), hub.admin_token());
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(again.Post("/v1/zones/dev/clusters", {{"name", "b" + std::to_string(i)}}).status,
              201);
  }
  std::string last = first.back()["revision"];
  auto client = HttpClient::Create(hub.url());
  ASSERT_TRUE(client.ok());
  auto resumed = (*client)->OpenStream(
      "GET", "/v1/watch",
      {{"Authorization", "Bearer " + hub.admin_token()}, {"Last-Event-ID", last}});
  ASSERT_TRUE(resumed.ok());
  ASSERT_EQ(again.Post("/v1/zones/dev/clusters", {{"name", "c0"}}).status, 201);
  auto rest = ReadEvents(**resumed, 6);
  ASSERT_EQ(rest.size(), 6u);
  ExpectDense(rest, std::stoll(last) + 1);
  EXPECT_EQ(rest[0]["name"], "b0");
  EXPECT_EQ(rest[5]["name"], "c0");
  auto extra = (*resumed)->NextEvent(milliseconds(300));
  EXPECT_TRUE(absl::IsDeadlineExceeded(extra.status()));
}

TEST(WatchTest, ZoneFilterAndZoneLimitedTokens) {
  HubProcess hub;
  hub.Start();
  Api admin(hub.url(), hub.admin_token());
  std::string dev_token = CreateToken(admin, "dev-viewer", "viewer", "dev");
  auto dev_stream = OpenWatch(hub, dev_token, "since=0");
  auto filtered = OpenWatch(hub, hub.admin_token(), "since=0&zone=prod");
  ASSERT_NE(dev_stream, nullptr);
  ASSERT_NE(filtered, nullptr);
  SeedZone(admin, "prod");
  SeedZone(admin, "dev");
  auto dev_events = ReadEvents(*dev_stream, 6);
  ASSERT_EQ(dev_events.size(), 6u);
  for (const Json& e : dev_events) EXPECT_EQ(e["zone"], "dev");
  auto prod_events = ReadEvents(*filtered, 6);
  ASSERT_EQ(prod_events.size(), 6u);
  for (const Json& e : prod_events) EXPECT_EQ(e["zone"], "prod");
  EXPECT_TRUE(absl::IsDeadlineExceeded(dev_stream->NextEvent(milliseconds(300)).status()));

  Api dev(hub.url(), dev_token);
  EXPECT_EQ(dev.Get("/v1/watch?zone=prod").status, 404);
  EXPECT_EQ(admin.Get("/v1/watch?since=abc").status, 400);
  // A revision this hub never reached: another history; list again.
  const int64_t now = std::stoll(admin.Get("/v1/zones").body["revision"].get<std::string>());
  auto ahead = admin.Get("/v1/watch?since=" + std::to_string(now + 5));
  EXPECT_EQ(ahead.status, 410);
  EXPECT_EQ(ahead.body["error"]["code"], "gone") << ahead.body.dump();
  EXPECT_EQ(ahead.body["error"]["field"], "since") << ahead.body.dump();
}

// One token holds at most 32 open watch streams; the next is refused with
// 429 naming the limit, another token is not affected, and closing one
// frees its slot.
TEST(WatchTest, OpenStreamsPerTokenAreBounded) {
  HubProcess hub;
  hub.Start();
  Api admin(hub.url(), hub.admin_token());
  const std::string viewer = CreateToken(admin, "watcher", "viewer", "");
  std::vector<std::unique_ptr<HttpClient::Stream>> open;
  for (int i = 0; i < 32; ++i) {
    open.push_back(OpenWatch(hub, viewer, ""));
    ASSERT_NE(open.back(), nullptr);
  }
  auto client = HttpClient::Create(hub.url());
  ASSERT_TRUE(client.ok());
  auto refused = (*client)->Send("GET", "/v1/watch", "", {{"Authorization", "Bearer " + viewer}});
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->status, 429) << refused->body;
  EXPECT_NE(refused->body.find("32 open watch streams"), std::string::npos) << refused->body;

  // Another token still watches.
  EXPECT_NE(OpenWatch(hub, hub.admin_token(), ""), nullptr);
  // A closed stream gives its slot back (once the hub notices it is gone).
  open.pop_back();
  EXPECT_TRUE(WaitFor(
      [&] {
        auto again = HttpClient::Create(hub.url());
        if (!again.ok()) return false;
        auto stream =
            (*again)->OpenStream("GET", "/v1/watch", {{"Authorization", "Bearer " + viewer}});
        return stream.ok() && (*stream)->head().status == 200;
      },
      seconds(30)));
}

}  // namespace
}  // namespace causeway::testing
