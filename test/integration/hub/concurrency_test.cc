// Optimistic concurrency under real concurrency.
#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

TEST(ConcurrencyTest, SameVersionExactlyOneWins) {
  HubProcess hub;
  hub.Start();
  Api admin(hub.url(), hub.admin_token());
  SeedZone(admin, "dev");
  for (int round = 0; round < 10; ++round) {
    Json current = admin.Get("/v1/zones/dev/route-groups/main").body;
    std::atomic<int> ok{0}, conflict{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        Api api(hub.url(), hub.admin_token());
        Json body = current;
        // Both differ from the current weight, so neither write is a no-op.
        body["default"][0]["weight"] = 100 * (round + 1) + i;
        auto res = api.Put("/v1/zones/dev/route-groups/main", body);
        if (res.status == 200) {
          ++ok;
        } else if (res.status == 409 && res.body.contains("current")) {
          ++conflict;
        } else {
          ++other;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
    EXPECT_EQ(conflict.load(), 1) << "round " << round;
    EXPECT_EQ(other.load(), 0);
  }
}

}  // namespace
}  // namespace causeway::testing
