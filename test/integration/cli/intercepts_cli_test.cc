// `causeway intercepts` and the generic verbs on intercepts, against a real
// hub: the listing shows owner, lease and tunnel; export-zone leaves
// intercepts out; apply -f refuses them; delete removes one.
#include <string>

#include "cli_fixture.h"
#include "gtest/gtest.h"
#include "net/http_client.h"

namespace causeway::testing {
namespace {

constexpr char kInterceptZoneYaml[] = R"(kind: Zone
name: staging
---
kind: Cluster
zone: staging
name: api
instances:
  - {host: 127.0.0.1, port: 8080}
)";

constexpr char kInterceptDocYaml[] = R"(kind: Intercept
zone: staging
name: ana-api
cluster: api
key: ana
)";

TEST(InterceptsCliTest, ListGetExportApplyAndDelete) {
  CliHub hub;
  hub.MustRun({"apply", "-f", hub.WriteFile("zone.yaml", kInterceptZoneYaml)});
  std::string secret = hub.MustRun({"token", "create", "ana", "--role", "editor"});
  while (!secret.empty() && secret.back() == '\n') secret.pop_back();

  // The laptop's write (the laptop command is a later part): plain REST.
  auto client = HttpClient::Create(hub.url());
  ASSERT_TRUE(client.ok()) << client.status();
  auto put = (*client)->Send(
      "PUT", "/v1/zones/staging/intercepts/ana-api",
      R"({"cluster": "api", "key": "ana", "lease_ms": 600000})",
      {{"Authorization", "Bearer " + secret}, {"Content-Type", "application/json"}});
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_EQ(put->status, 201) << put->body;

  std::string table = hub.MustRun({"intercepts", "-z", "staging"});
  EXPECT_NE(table.find("EXPIRES IN"), std::string::npos) << table;
  EXPECT_NE(table.find("TUNNEL"), std::string::npos) << table;
  std::string row = table.substr(table.find("ana-api"));
  for (const char* cell : {"api", "ana", "none"}) {
    EXPECT_NE(row.find(cell), std::string::npos) << cell << " in " << table;
  }
  EXPECT_TRUE(row.find("9m") != std::string::npos || row.find("10m") != std::string::npos) << table;

  Json got = Json::parse(
      hub.MustRun({"get", "intercept", "ana-api", "-z", "staging", "-o", "json"}), nullptr, false);
  EXPECT_EQ(got.value("owner", ""), "ana") << got.dump();
  EXPECT_EQ(got.value("key", ""), "ana");

  std::string exported = hub.MustRun({"export-zone", "staging"});
  EXPECT_NE(exported.find("kind: Cluster"), std::string::npos) << exported;
  EXPECT_EQ(exported.find("Intercept"), std::string::npos) << exported;

  CliResult applied = hub.Run({"apply", "-f", hub.WriteFile("i.yaml", kInterceptDocYaml)});
  EXPECT_NE(applied.exit_code, 0);
  EXPECT_NE(applied.err.find("is not applied from documents"), std::string::npos) << applied.err;

  // The admin (the CLI's default token here) may delete anyone's.
  hub.MustRun({"delete", "intercept", "ana-api", "-z", "staging"});
  CliResult empty = hub.Run({"intercepts", "-z", "staging"});
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_NE(empty.err.find("No intercepts in zone staging"), std::string::npos) << empty.err;
}

}  // namespace
}  // namespace causeway::testing
