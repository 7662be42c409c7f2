// HttpClient's URL and TLS options, checked before anything connects.
#include "net/http_client.h"

#include "gtest/gtest.h"

namespace causeway {
namespace {

TEST(HttpClientTest, UrlsAndDefaultPorts) {
  auto plain = HttpClient::Create("http://hub.internal:8380/ignored/path");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)->host(), "hub.internal");
  EXPECT_EQ((*plain)->port(), "8380");
  auto bare = HttpClient::Create("127.0.0.1:9901");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ((*bare)->port(), "9901");
  auto https = HttpClient::Create("https://hub.internal");
  ASSERT_TRUE(https.ok()) << https.status();
  EXPECT_EQ((*https)->port(), "443");
  auto v6 = HttpClient::Create("https://[::1]:8443");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ((*v6)->host(), "::1");
  EXPECT_EQ((*v6)->port(), "8443");
  auto v6_default = HttpClient::Create("https://[::1]");
  ASSERT_TRUE(v6_default.ok()) << v6_default.status();
  EXPECT_EQ((*v6_default)->host(), "::1");
  EXPECT_EQ((*v6_default)->port(), "443");

  auto ftp = HttpClient::Create("ftp://hub.internal");
  EXPECT_TRUE(absl::IsInvalidArgument(ftp.status()));
  EXPECT_NE(ftp.status().message().find("https://"), std::string::npos);
}

TEST(HttpClientTest, CaFileErrorsNameTheFile) {
  HttpClient::Options options;
  options.ca_file = "/nonexistent/ca.crt";
  auto missing = HttpClient::Create("https://hub.internal:8443", options);
  EXPECT_TRUE(absl::IsInvalidArgument(missing.status())) << missing.status();
  EXPECT_NE(missing.status().message().find("/nonexistent/ca.crt"), std::string::npos)
      << missing.status();
  // A CA for a plain URL is a mistake worth saying.
  auto plain = HttpClient::Create("http://hub.internal:8380", options);
  EXPECT_TRUE(absl::IsInvalidArgument(plain.status())) << plain.status();
  EXPECT_NE(plain.status().message().find("not https://"), std::string::npos);
}

}  // namespace
}  // namespace causeway
