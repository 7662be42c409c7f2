#include "proxy/server/grpc_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace causeway::proxy {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

TEST(GrpcStatusTest, ContentTypes) {
  EXPECT_TRUE(IsGrpcContentType("application/grpc"));
  EXPECT_TRUE(IsGrpcContentType("application/grpc+proto"));
  EXPECT_TRUE(IsGrpcContentType("Application/GRPC; charset=utf-8"));
  EXPECT_FALSE(IsGrpcContentType("application/grpc-web"));
  EXPECT_FALSE(IsGrpcContentType("application/grpc-web+proto"));
  EXPECT_FALSE(IsGrpcContentType("application/json"));
  EXPECT_FALSE(IsGrpcContentType("application/grp"));
  EXPECT_FALSE(IsGrpcContentType(""));
}

TEST(GrpcStatusTest, TimeoutUnits) {
  EXPECT_EQ(*ParseGrpcTimeout("2H"), milliseconds(2 * 3600 * 1000));
  EXPECT_EQ(*ParseGrpcTimeout("3M"), milliseconds(180000));
  EXPECT_EQ(*ParseGrpcTimeout("5S"), milliseconds(5000));
  EXPECT_EQ(*ParseGrpcTimeout("250m"), milliseconds(250));
  EXPECT_EQ(*ParseGrpcTimeout("1500u"), milliseconds(2));  // rounded up
  EXPECT_EQ(*ParseGrpcTimeout("1n"), milliseconds(1));     // never 0: that means none
  EXPECT_EQ(*ParseGrpcTimeout("0m"), milliseconds(1));
  EXPECT_EQ(*ParseGrpcTimeout("8760H"), milliseconds(int64_t{8760} * 3600 * 1000));
  EXPECT_EQ(*ParseGrpcTimeout("99999999H"), milliseconds(int64_t{8760} * 3600 * 1000));  // a year
}

TEST(GrpcStatusTest, BadTimeoutsNameTheValue) {
  for (std::string_view bad : {"", "S", "10", "10s", "10 S", "-1S", "123456789S", "1.5S", "+1S"}) {
    absl::StatusOr<milliseconds> t = ParseGrpcTimeout(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_THAT(std::string(t.status().message()),
                HasSubstr(absl::StrCat("grpc-timeout \"", std::string(bad), "\"")));
  }
}

TEST(GrpcStatusTest, TheSmallerTimeoutWins) {
  EXPECT_EQ(CapRouteTimeout(milliseconds(15000), milliseconds(200)), milliseconds(200));
  EXPECT_EQ(CapRouteTimeout(milliseconds(100), milliseconds(200)), milliseconds(100));
  EXPECT_EQ(CapRouteTimeout(milliseconds(0), milliseconds(200)), milliseconds(200));
}

TEST(GrpcStatusTest, HttpStatusMapping) {
  EXPECT_EQ(GrpcStatusForHttp(503), GrpcStatus::kUnavailable);
  EXPECT_EQ(GrpcStatusForHttp(502), GrpcStatus::kUnavailable);
  EXPECT_EQ(GrpcStatusForHttp(429), GrpcStatus::kUnavailable);
  EXPECT_EQ(GrpcStatusForHttp(504), GrpcStatus::kDeadlineExceeded);
  EXPECT_EQ(GrpcStatusForHttp(408), GrpcStatus::kDeadlineExceeded);
  EXPECT_EQ(GrpcStatusForHttp(404), GrpcStatus::kUnimplemented);
  EXPECT_EQ(GrpcStatusForHttp(401), GrpcStatus::kUnauthenticated);
  EXPECT_EQ(GrpcStatusForHttp(403), GrpcStatus::kPermissionDenied);
  EXPECT_EQ(GrpcStatusForHttp(400), GrpcStatus::kInternal);
  EXPECT_EQ(GrpcStatusForHttp(500), GrpcStatus::kUnknown);
  EXPECT_EQ(GrpcStatusForHttp(501), GrpcStatus::kUnknown);
}

TEST(GrpcStatusTest, MessagePercentEncoding) {
  EXPECT_EQ(PercentEncodeGrpcMessage("no healthy upstream"), "no healthy upstream");
  EXPECT_EQ(PercentEncodeGrpcMessage("100% down\r\n"), "100%25 down%0D%0A");
  EXPECT_EQ(PercentEncodeGrpcMessage("caf\xc3\xa9"), "caf%C3%A9");
}

TEST(GrpcStatusTest, TrailersOnlyFields) {
  http2::HeaderList fields = GrpcLocalReplyFields(
      503, "no healthy upstream\n",
      {{"content-type", "text/plain"}, {"content-length", "20"}, {"x-added", "1"}});
  EXPECT_EQ(fields, (http2::HeaderList{{"content-type", "application/grpc"},
                                       {"grpc-status", "14"},
                                       {"grpc-message", "no healthy upstream"},
                                       {"x-added", "1"}}));
}

}  // namespace
}  // namespace causeway::proxy
