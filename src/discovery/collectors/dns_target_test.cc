#include <gtest/gtest.h>

#include "discovery/collectors/dns_collector.h"

namespace causeway::discovery {
namespace {

TEST(DnsTargetTest, Parses) {
  auto a = ParseDnsTarget("users=users.internal:8080");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->cluster, "users");
  EXPECT_EQ(a->name, "users.internal");
  EXPECT_EQ(a->port, 8080u);
  EXPECT_FALSE(a->srv());

  auto srv = ParseDnsTarget("api=_http._tcp.example.org");
  ASSERT_TRUE(srv.ok()) << srv.status();
  EXPECT_TRUE(srv->srv());
  EXPECT_EQ(srv->name, "_http._tcp.example.org");

  EXPECT_FALSE(ParseDnsTarget("users.internal:8080").ok());
  EXPECT_FALSE(ParseDnsTarget("users=users.internal").ok());
  EXPECT_FALSE(ParseDnsTarget("users=users.internal:0").ok());
  EXPECT_FALSE(ParseDnsTarget("users=users.internal:80x").ok());
  EXPECT_FALSE(ParseDnsTarget("Bad=users.internal:80").ok());
}

}  // namespace
}  // namespace causeway::discovery
