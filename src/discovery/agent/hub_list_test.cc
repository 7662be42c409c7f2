#include "discovery/agent/hub_list.h"

#include <gtest/gtest.h>

namespace causeway::discovery {
namespace {

std::shared_ptr<HubList> MakeHubListForTest(std::vector<std::string> urls) {
  auto hubs = HubList::Create(std::move(urls));
  EXPECT_TRUE(hubs.ok()) << hubs.status();
  return hubs.ok() ? *hubs : nullptr;
}

TEST(HubListTest, MovesToTheNextHubInOrderAndWrapsAround) {
  auto hubs = MakeHubListForTest({"http://a:1", "http://b:2", "https://c:3"});
  ASSERT_NE(hubs, nullptr);
  EXPECT_EQ(hubs->Current(), "http://a:1");
  hubs->Failed("http://a:1", absl::UnavailableError("connect: refused"));
  EXPECT_EQ(hubs->Current(), "http://b:2");
  hubs->Failed("http://b:2", absl::DeadlineExceededError("timed out"));
  EXPECT_EQ(hubs->Current(), "https://c:3");
  hubs->Failed("https://c:3", absl::InternalError("HTTP 500"));
  EXPECT_EQ(hubs->Current(), "http://a:1");
  EXPECT_EQ(hubs->moves(), 3u);
}

TEST(HubListTest, AFailureOfAHubAlreadyLeftDoesNotMoveAgain) {
  // The writer and the watch both notice the first hub's outage: one move.
  auto hubs = MakeHubListForTest({"http://a:1", "http://b:2", "http://c:3"});
  ASSERT_NE(hubs, nullptr);
  hubs->Failed("http://a:1", absl::UnavailableError("watch closed"));
  hubs->Failed("http://a:1", absl::UnavailableError("connect: refused"));
  EXPECT_EQ(hubs->Current(), "http://b:2");
  EXPECT_EQ(hubs->moves(), 1u);
}

TEST(HubListTest, ClientErrorsStayWithTheHubInUse) {
  auto hubs = MakeHubListForTest({"http://a:1", "http://b:2"});
  ASSERT_NE(hubs, nullptr);
  hubs->Failed("http://a:1", absl::UnauthenticatedError("HTTP 401"));
  hubs->Failed("http://a:1", absl::PermissionDeniedError("HTTP 403"));
  hubs->Failed("http://a:1", absl::AbortedError("HTTP 409"));
  hubs->Failed("http://a:1", absl::InvalidArgumentError("HTTP 400"));
  EXPECT_EQ(hubs->Current(), "http://a:1");
  EXPECT_EQ(hubs->moves(), 0u);
}

TEST(HubListTest, OneHubNeverMoves) {
  auto hubs = MakeHubListForTest({"http://a:1"});
  ASSERT_NE(hubs, nullptr);
  hubs->Failed("http://a:1", absl::UnavailableError("connect: refused"));
  EXPECT_EQ(hubs->Current(), "http://a:1");
  EXPECT_EQ(hubs->moves(), 0u);
}

TEST(HubListTest, BadListsAreRefusedNamingTheFlagAndValue) {
  auto none = HubList::Create({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "--hub is required");
  auto scheme = HubList::Create({"http://a:1", "a.example:8080"});
  ASSERT_FALSE(scheme.ok());
  EXPECT_EQ(scheme.status().message(),
            "--hub: \"a.example:8080\" is not an http:// or https:// URL");
  auto empty = HubList::Create({"http://a:1", ""});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "--hub: entry 2 of the list is empty");
  auto twice = HubList::Create({"http://a:1", "http://a:1"});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(), "--hub: \"http://a:1\" is given twice");
}

}  // namespace
}  // namespace causeway::discovery
