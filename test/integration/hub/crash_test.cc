// kill -9 in the middle of 1,000 concurrent writes: after a restart every
// write answered 2xx is there, none answered with an error is, and the
// change log agrees with the state.
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

enum class Fate { kNotSent, kAcked, kRejected, kUnknown };

TEST(CrashTest, AcknowledgedWritesSurviveKill9) {
  HubProcess hub;
  hub.Start();
  {
    Api admin(hub.url(), hub.admin_token());
    ASSERT_EQ(admin.Post("/v1/zones", {{"name", "dev"}}).status, 201);
  }
  constexpr int kThreads = 16;
  constexpr int kPerThread = 63;  // ~1,000 writes in all
  // Every 5th write names a missing cluster, so the catalog refuses it:
  // those must never appear, crash or not.
  auto name_of = [](int t, int i) { return "w-" + std::to_string(t) + "-" + std::to_string(i); };
  auto refused = [](int i) { return i % 5 == 4; };

  std::mutex mu;
  std::map<std::string, Fate> fate;
  std::atomic<int> acked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = HttpClient::Create(hub.url(), HttpClient::Options{std::chrono::seconds(10)});
      ASSERT_TRUE(client.ok());
      HttpClient::Headers headers = {{"Authorization", "Bearer " + hub.admin_token()}};
      bool down = false;
      for (int i = 0; i < kPerThread; ++i) {
        std::string name = name_of(t, i);
        Fate f = Fate::kNotSent;
        if (!down) {
          Json body = refused(i) ? Json{{"name", name}, {"default", {{{"cluster", "missing"}}}}}
                                 : Json{{"name", name}};
          std::string path = refused(i) ? "/v1/zones/dev/route-groups" : "/v1/zones/dev/clusters";
          auto res = (*client)->Send("POST", path, body.dump(), headers);
          if (!res.ok()) {
            f = Fate::kUnknown;  // sent, maybe applied, never answered
            down = true;
          } else if (res->status == 201) {
            f = Fate::kAcked;
            ++acked;
          } else {
            f = Fate::kRejected;
          }
        }
        std::lock_guard<std::mutex> lock(mu);
        fate[name] = f;
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] { return acked.load() >= 250; }, std::chrono::seconds(60)));
  hub.Kill();
  for (auto& th : threads) th.join();

  hub.Start();
  Api admin(hub.url(), hub.admin_token());
  std::set<std::string> present;
  for (const char* kind : {"clusters", "route-groups"}) {
    auto list = admin.Get(std::string("/v1/zones/dev/") + kind);
    ASSERT_EQ(list.status, 200);
    for (const Json& o : list.body["items"]) present.insert(o["name"].get<std::string>());
  }
  int acked_count = 0, rejected_count = 0;
  for (const auto& [name, f] : fate) {
    if (f == Fate::kAcked) {
      ++acked_count;
      EXPECT_TRUE(present.count(name)) << name << " was acknowledged but is missing";
    } else if (f == Fate::kRejected || f == Fate::kNotSent) {
      if (f == Fate::kRejected) ++rejected_count;
      EXPECT_FALSE(present.count(name)) << name << " failed but is present";
    }
  }
  EXPECT_GE(acked_count, 250);
  EXPECT_GT(rejected_count, 0);
  // The kill landed in the middle: some writes never got an answer.
  EXPECT_LT(acked_count + rejected_count, kThreads * kPerThread);

  // The change log: dense revisions, one create per present object, nothing
  // for absent ones, ending at the hub's revision.
  std::set<std::string> logged;
  int64_t expected = 1;
  std::string since = "0";
  for (;;) {
    auto page = admin.Get("/v1/changelog?limit=1000&since=" + since);
    ASSERT_EQ(page.status, 200);
    if (page.body["items"].empty()) break;
    for (const Json& c : page.body["items"]) {
      EXPECT_EQ(std::stoll(c["revision"].get<std::string>()), expected++);
      if (c["kind"] != "Zone") {
        EXPECT_EQ(c["op"], "create");
        EXPECT_TRUE(logged.insert(c["name"].get<std::string>()).second);
      }
    }
    since = page.body["next"];
  }
  EXPECT_EQ(logged, present);
  auto ready = admin.Get("/readyz");
  EXPECT_EQ(std::stoll(ready.body["revision"].get<std::string>()), expected - 1);
}

}  // namespace
}  // namespace causeway::testing
