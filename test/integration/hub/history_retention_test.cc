// --history-retention on the real binary: the change log is compacted to the
// newest N changes, a changelog page or a watch from before them is 410 Gone
// naming the oldest revision kept, a recent one works, and no object goes.
#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

int64_t RetentionRevision(Api& api) {
  return std::stoll(api.Get("/v1/zones").body["revision"].get<std::string>());
}

// Seeds zone dev (revisions 1..6) and adds clusters c1..c30 (7..36).
void WriteThirtySix(Api& admin) {
  SeedZone(admin, "dev");
  for (int i = 1; i <= 30; ++i) {
    ASSERT_EQ(admin.Post("/v1/zones/dev/clusters", {{"name", "c" + std::to_string(i)}}).status,
              201);
  }
  ASSERT_EQ(RetentionRevision(admin), 36);
}

void ExpectAllClusters(Api& admin) {
  auto clusters = admin.Get("/v1/clusters?zone=dev");
  ASSERT_EQ(clusters.status, 200) << clusters.body.dump();
  EXPECT_EQ(clusters.body["items"].size(), 31u);  // web and c1..c30
}

TEST(HistoryRetentionTest, CompactedRevisionsAreGoneRecentOnesServed) {
  HubProcess hub;
  hub.Start({"--history-retention", "10", "--history-compaction-interval", "50ms"});
  Api admin(hub.url(), hub.admin_token());
  WriteThirtySix(admin);
  // The compactor keeps the newest 10 of 36: the log starts after 26.
  ASSERT_TRUE(WaitFor([&] { return admin.Get("/v1/changelog?since=25").status == 410; },
                      std::chrono::seconds(30)))
      << hub.Log();
  auto gone = admin.Get("/v1/changelog?since=3");
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(gone.body["error"]["code"], "gone") << gone.body.dump();
  EXPECT_EQ(gone.body["error"]["field"], "since") << gone.body.dump();
  EXPECT_EQ(gone.body["error"]["oldest_revision"], "27") << gone.body.dump();

  auto page = admin.Get("/v1/changelog");  // no since: from the oldest kept
  ASSERT_EQ(page.status, 200) << page.body.dump();
  ASSERT_EQ(page.body["items"].size(), 10u);
  EXPECT_EQ(page.body["items"][0]["revision"], "27");
  EXPECT_EQ(admin.Get("/v1/changelog?since=26").body["items"].size(), 10u);

  auto watch_gone = admin.Get("/v1/watch?since=0");
  EXPECT_EQ(watch_gone.status, 410);
  EXPECT_EQ(watch_gone.body["error"]["field"], "since") << watch_gone.body.dump();
  EXPECT_EQ(watch_gone.body["error"]["oldest_revision"], "27") << watch_gone.body.dump();

  auto client = HttpClient::Create(hub.url());
  ASSERT_TRUE(client.ok());
  auto stream = (*client)->OpenStream("GET", "/v1/watch?since=33",
                                      {{"Authorization", "Bearer " + hub.admin_token()}});
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_EQ((*stream)->head().status, 200);
  for (int want = 34; want <= 36; ++want) {
    auto event = (*stream)->NextEvent(std::chrono::seconds(20));
    ASSERT_TRUE(event.ok() && event->has_value()) << event.status();
    EXPECT_EQ((*event)->id, std::to_string(want));
  }
  ExpectAllClusters(admin);
  EXPECT_NE(hub.Log().find("history: removed"), std::string::npos) << hub.Log();
}

TEST(HistoryRetentionTest, KilledHubKeepsObjectsAndItsCompactedRevision) {
  HubProcess hub;
  const std::vector<std::string> flags = {"--history-retention", "10",
                                          "--history-compaction-interval", "50ms"};
  hub.Start(flags);
  Api admin(hub.url(), hub.admin_token());
  WriteThirtySix(admin);
  ASSERT_TRUE(WaitFor([&] { return admin.Get("/v1/changelog?since=25").status == 410; },
                      std::chrono::seconds(30)));
  hub.Kill();
  hub.Start(flags);
  Api again(hub.url(), hub.admin_token());
  EXPECT_EQ(again.Get("/v1/changelog?since=25").status, 410);
  EXPECT_EQ(again.Get("/v1/changelog?since=26").status, 200);
  ExpectAllClusters(again);
}

TEST(HistoryRetentionTest, DefaultKeepsEverythingRecent) {
  HubProcess hub;
  hub.Start();
  Api admin(hub.url(), hub.admin_token());
  SeedZone(admin, "dev");
  auto all = admin.Get("/v1/changelog?since=0");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.body["items"].size(), 6u);
  EXPECT_NE(hub.Log().find("change log retention: 7d"), std::string::npos) << hub.Log();
}

TEST(HistoryRetentionTest, BadRetentionIsRefusedNamingTheValue) {
  HubProcess hub;
  hub.Launch({"--history-retention", "7x"});
  EXPECT_NE(hub.Wait(std::chrono::seconds(30)), 0);
  EXPECT_NE(hub.Log().find("\"7x\""), std::string::npos) << hub.Log();
}

}  // namespace
}  // namespace causeway::testing
