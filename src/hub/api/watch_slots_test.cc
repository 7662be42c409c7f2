#include "hub/api/watch_slots.h"

#include <vector>

#include "gtest/gtest.h"

namespace causeway::hub::api {
namespace {

TEST(WatchSlotsTest, BoundedPerTokenAndGivenBackWithTheLastCopy) {
  WatchSlots slots;
  std::vector<std::shared_ptr<void>> held;
  for (int i = 0; i < WatchSlots::kPerToken; ++i) {
    held.push_back(slots.Acquire("a"));
    ASSERT_NE(held.back(), nullptr);
  }
  EXPECT_EQ(slots.Acquire("a"), nullptr);
  EXPECT_NE(slots.Acquire("b"), nullptr);  // and given back at once
  EXPECT_EQ(slots.open("b"), 0);

  std::shared_ptr<void> copy = held.back();
  held.pop_back();
  EXPECT_EQ(slots.open("a"), WatchSlots::kPerToken);  // a copy still holds it
  copy.reset();
  EXPECT_EQ(slots.open("a"), WatchSlots::kPerToken - 1);
  EXPECT_NE(slots.Acquire("a"), nullptr);
}

}  // namespace
}  // namespace causeway::hub::api
