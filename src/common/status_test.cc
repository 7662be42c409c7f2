#include "common/status.h"

#include <gtest/gtest.h>

#include "common/time_source.h"

namespace causeway {
namespace {

TEST(FieldError, CarriesFieldAndMessage) {
  absl::Status s = FieldError("path", "must start with /");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(s), "path");
  EXPECT_EQ(s.message(), "path: must start with /");
}

TEST(FieldError, PrefixJoinsPaths) {
  absl::Status s = WithFieldPrefix(WithFieldPrefix(FieldError("cluster", "required"), "[1]"),
                                   "rules[0].targets");
  EXPECT_EQ(ErrorField(s), "rules[0].targets[1].cluster");
  EXPECT_EQ(s.message(), "rules[0].targets[1].cluster: required");
}

absl::StatusOr<int> Half(int x) {
  if (x % 2) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::Status UseMacros(int x, int* out) {
  CW_ASSIGN_OR_RETURN(int h, Half(x));
  *out = h;
  return absl::OkStatus();
}

TEST(Macros, AssignOrReturn) {
  int out = 0;
  EXPECT_TRUE(UseMacros(8, &out).ok());
  EXPECT_EQ(out, 4);
  EXPECT_FALSE(UseMacros(3, &out).ok());
}

TEST(Time, ManualAdvancesAndFormats) {
  ManualTime t;
  auto before = t.Now();
  t.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(t.Now() - before, std::chrono::milliseconds(1500));
  EXPECT_EQ(FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(1500))),
            "1970-01-01T00:00:01.500Z");
}

}  // namespace
}  // namespace causeway
