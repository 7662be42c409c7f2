#include "discovery/agent/collector_spec.h"

#include <gtest/gtest.h>

namespace causeway::discovery {
namespace {

TEST(CollectorSpecTest, BuildsEachKind) {
  CollectorEnvironment env;
  auto file = MakeCollector("file:/etc/causeway/clusters.yaml", env);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->Describe(), "file:/etc/causeway/clusters.yaml");

  auto dns = MakeCollector("dns:users=users.internal:8080", env);
  ASSERT_TRUE(dns.ok()) << dns.status();
  EXPECT_EQ((*dns)->Describe(), "dns:users=users.internal:8080");

  auto srv = MakeCollector("dns:api=_http._tcp.example.org", env);
  ASSERT_TRUE(srv.ok()) << srv.status();
}

TEST(CollectorSpecTest, RejectsBadSpecs) {
  CollectorEnvironment env;
  EXPECT_FALSE(MakeCollector("file:", env).ok());
  EXPECT_FALSE(MakeCollector("dns:nocluster", env).ok());
  EXPECT_FALSE(MakeCollector("consul:x", env).ok());
  EXPECT_FALSE(MakeCollector("kubernetes:bogus=1", env).ok());
  env.kubeconfig = "/nonexistent/kubeconfig";
  EXPECT_FALSE(MakeCollector("kubernetes:namespace=a", env).ok());
}

}  // namespace
}  // namespace causeway::discovery
