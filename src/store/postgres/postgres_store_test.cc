// PostgreSQL-only behavior: change notifications between replicas and
// surviving a server restart.
#include <atomic>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/store/store_test_env.h"

namespace causeway::store::testing {
namespace {

using ::causeway::testing::WaitFor;

TEST(PostgresStore, CallbackFiresForAnotherWritersCommitOnly) {
  StoreEnv env(Backend::kPostgres);
  auto hub_a = env.Open();
  auto hub_b = env.Open();
  ASSERT_TRUE(hub_a.ok()) << hub_a.status();
  ASSERT_TRUE(hub_b.ok()) << hub_b.status();
  std::atomic<int> calls{0};
  (*hub_a)->SetExternalChangeCallback([&] { ++calls; });

  // A's own commit is not news to A; B's is. Notifications arrive in commit
  // order, so once B's has been seen, A's would have been seen too.
  ASSERT_TRUE((*hub_a)->Commit(0, {Create(1, MakeObject("z", "a", 1, ""))}).ok());
  ASSERT_TRUE((*hub_b)->Commit(1, {Create(2, MakeObject("z", "b", 2, ""))}).ok());
  ASSERT_TRUE(WaitFor([&] { return calls.load() >= 1; }));
  EXPECT_EQ(calls.load(), 1);

  ASSERT_TRUE((*hub_b)->Commit(2, {Create(3, MakeObject("z", "c", 3, ""))}).ok());
  ASSERT_TRUE(WaitFor([&] { return calls.load() >= 2; }));

  // Clearing the callback stops the listener.
  (*hub_a)->SetExternalChangeCallback(nullptr);
  ASSERT_TRUE((*hub_b)->Commit(3, {Create(4, MakeObject("z", "d", 4, ""))}).ok());
  auto rev = (*hub_a)->Revision();
  ASSERT_TRUE(rev.ok());
  EXPECT_EQ(*rev, 4);
}

TEST(PostgresStore, SurvivesServerRestart) {
  // A private server: restarting the shared one would disturb other tests.
  ::causeway::testing::PostgresServer server;
  std::string url = server.CreateDatabase("restart");
  auto store = OpenStore(url, "");
  ASSERT_TRUE(store.ok()) << store.status();
  std::atomic<int> calls{0};
  (*store)->SetExternalChangeCallback([&] { ++calls; });
  ASSERT_TRUE((*store)->Commit(0, {Create(1, MakeObject("z", "a", 1, ""))}).ok());

  server.Stop();
  // While the server is down: a clear error naming it.
  absl::Status down = (*store)->Commit(1, {Create(2, MakeObject("z", "b", 2, ""))});
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable) << down;
  EXPECT_THAT(std::string(down.message()),
              ::testing::HasSubstr("127.0.0.1:" + std::to_string(server.port())));

  server.Restart();
  // Pooled connections died with the server; the store reconnects.
  absl::Status up = (*store)->Commit(1, {Create(2, MakeObject("z", "b", 2, ""))});
  EXPECT_TRUE(up.ok()) << up;
  auto rev = (*store)->Revision();
  ASSERT_TRUE(rev.ok()) << rev.status();
  EXPECT_EQ(*rev, 2);
  // The listener reconnects too and says so (changes may have been missed).
  EXPECT_TRUE(WaitFor([&] { return calls.load() >= 1; }, std::chrono::seconds(20)));
}

}  // namespace
}  // namespace causeway::store::testing
