// `causeway intercept` on the real binaries against a real hub: the lease
// written with the token as owner, renewed while it runs, deleted on
// SIGTERM; a key held by another token, bad flags and an unreachable hub
// stop it with a clear error and write nothing.
#include <signal.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "intercept_command_fixture.h"
#include "net/http_client.h"

namespace causeway::testing {
namespace {

class InterceptCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.MustRun({"apply", "-f", hub_.WriteFile("zone.yaml", kInterceptCommandZoneYaml)});
    ana_ = CreateInterceptToken(hub_, "ana", "editor");
  }

  // `causeway intercepts -z staging -o json`: every intercept of the zone.
  Json StagingIntercepts() {
    return Json::parse(hub_.MustRun({"intercepts", "-z", "staging", "-o", "json"}), nullptr, false);
  }

  CliHub hub_;
  std::string ana_;
};

TEST_F(InterceptCommandTest, HoldsRenewsAndDeletesOnSigterm) {
  InterceptCommand cmd(hub_, ana_,
                       {"color", "--zone", "staging", "--key", "Ana_1", "--to", "127.0.0.1:8080",
                        "--lease-ms", "3000"});
  ASSERT_TRUE(cmd.WaitForOutput("intercept ana-1-color written in zone staging")) << cmd.Output();
  Json first = GetStagingIntercept(hub_, "ana-1-color");
  ASSERT_TRUE(first.is_object()) << cmd.Output();
  EXPECT_EQ(first.value("owner", ""), "ana");
  EXPECT_EQ(first.value("key", ""), "Ana_1");
  EXPECT_EQ(first.value("cluster", ""), "color");
  EXPECT_EQ(first.value("lease_ms", 0), 3000);
  EXPECT_NE(cmd.Output().find("no tunnel given"), std::string::npos) << cmd.Output();
  // The owner's write carries the key's proof, for requests from outside.
  EXPECT_NE(cmd.Output().find("from outside staging, send: x-causeway-key: Ana_1~"),
            std::string::npos)
      << cmd.Output();

  // Renewed every second while it runs: expires_at moves on.
  const std::string expires = first.value("expires_at", "");
  Json renewed;
  EXPECT_TRUE(WaitFor(
      [&] {
        renewed = GetStagingIntercept(hub_, "ana-1-color");
        return renewed.is_object() && renewed.value("expires_at", "") > expires;
      },
      std::chrono::seconds(30)))
      << "expires_at stayed " << expires << "\n"
      << cmd.Output();
  EXPECT_TRUE(cmd.Running());
  EXPECT_EQ(cmd.Output().find("renewal failed"), std::string::npos) << cmd.Output();

  EXPECT_EQ(cmd.Signal(SIGTERM), 0) << cmd.Output();
  EXPECT_TRUE(GetStagingIntercept(hub_, "ana-1-color").is_null());
  EXPECT_NE(cmd.Output().find("stopped (terminated): intercept ana-1-color deleted"),
            std::string::npos)
      << cmd.Output();
}

TEST_F(InterceptCommandTest, CtrlCDeletesAfterTheVersionMoved) {
  InterceptCommand cmd(
      hub_, ana_,
      {"color", "-z", "staging", "--key", "ana", "--to", "localhost:8080", "--name", "mine"});
  ASSERT_TRUE(cmd.WaitForOutput("intercept mine written")) << cmd.Output();
  // An admin's write in between (as the tunnel's holder makes): the delete
  // on the way out must follow the new version.
  std::ifstream token_file(hub_.home() + "/.local/share/causeway/admin.token");
  std::string admin_token;
  std::getline(token_file, admin_token);
  auto admin = HttpClient::Create(hub_.url());
  ASSERT_TRUE(admin.ok()) << admin.status();
  auto put = (*admin)->Send(
      "PUT", "/v1/zones/staging/intercepts/mine",
      R"({"cluster": "color", "key": "ana", "lease_ms": 40000})",
      {{"Authorization", "Bearer " + admin_token}, {"Content-Type", "application/json"}});
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_EQ(put->status, 200) << put->body;
  ASSERT_EQ(GetStagingIntercept(hub_, "mine").value("lease_ms", 0), 40000);
  EXPECT_EQ(cmd.Signal(SIGINT), 0) << cmd.Output();
  EXPECT_TRUE(GetStagingIntercept(hub_, "mine").is_null()) << cmd.Output();
  EXPECT_NE(cmd.Output().find("stopped (interrupted): intercept mine deleted"), std::string::npos)
      << cmd.Output();
}

TEST_F(InterceptCommandTest, AHubOutageIsReportedAndTheCommandKeepsRunning) {
  InterceptCommand cmd(
      hub_, ana_,
      {"color", "-z", "staging", "--key", "ana", "--to", "127.0.0.1:8080", "--lease-ms", "3000"});
  ASSERT_TRUE(cmd.WaitForOutput("intercept ana-color written")) << cmd.Output();
  hub_.Stop();
  ASSERT_TRUE(cmd.WaitForOutput("lease renewal failed (cannot reach the hub at")) << cmd.Output();
  EXPECT_NE(cmd.Output().find("still serving, retrying in 1s"), std::string::npos) << cmd.Output();
  EXPECT_TRUE(cmd.Running()) << cmd.Output();
  // The way out cannot delete it either: it says so, and that the lease ends it.
  EXPECT_EQ(cmd.Signal(SIGTERM), 7) << cmd.Output();
  EXPECT_NE(cmd.Output().find("could not delete intercept ana-color"), std::string::npos)
      << cmd.Output();
  EXPECT_NE(cmd.Output().find("its lease ends it at 20"), std::string::npos) << cmd.Output();
}

TEST_F(InterceptCommandTest, AKeyHeldByAnotherTokenStopsNamingTheHolder) {
  InterceptCommand ana(hub_, ana_,
                       {"color", "-z", "staging", "--key", "shared", "--to", "127.0.0.1:8080"});
  ASSERT_TRUE(ana.WaitForOutput("written")) << ana.Output();
  const std::string bob = CreateInterceptToken(hub_, "bob", "editor");
  // Another intercept on the same key: 409 key_held, naming holder and expiry.
  InterceptCommand bobs(hub_, bob,
                        {"color", "-z", "staging", "--key", "shared", "--to", "127.0.0.1:9090",
                         "--name", "bobs-color"});
  EXPECT_EQ(bobs.Wait(), 6) << bobs.Output();
  EXPECT_NE(bobs.Output().find("key \"shared\" is held in zone staging by token \"ana\" "
                               "(intercept shared-color) until 20"),
            std::string::npos)
      << bobs.Output();
  // The same (default) name: ana's intercept, which only ana may change.
  InterceptCommand same_name(
      hub_, bob, {"color", "-z", "staging", "--key", "shared", "--to", "127.0.0.1:9090"});
  EXPECT_EQ(same_name.Wait(), 4) << same_name.Output();
  EXPECT_NE(same_name.Output().find("is held by token \"ana\" until 20"), std::string::npos)
      << same_name.Output();
  Json list = StagingIntercepts();
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0].value("owner", ""), "ana");
  EXPECT_EQ(ana.Signal(SIGTERM), 0) << ana.Output();
}

TEST_F(InterceptCommandTest, BadFlagsWriteNothing) {
  struct BadFlags {
    std::vector<std::string> args;
    std::string error;
  };
  const std::vector<BadFlags> cases = {
      {{"color", "-z", "staging", "--key", "a b", "--to", "127.0.0.1:8080"},
       "--key \"a b\" is not a routing key"},
      {{"color", "-z", "staging", "--key", "ana", "--to", "8080"}, "--to \"8080\": no port"},
      {{"color", "-z", "staging", "--key", "ana", "--to", "127.0.0.1:70000"},
       "--to \"127.0.0.1:70000\": the port must be a number from 1 to 65535"},
      {{"color", "-z", "staging", "--key", "ana", "--to", "127.0.0.1:8080", "--lease-ms", "500"},
       "--lease-ms 500: must be between 1000 and 600000"},
      {{"color", "-z", "staging", "--key", "ana", "--to", "127.0.0.1:8080", "--name", "No_Good"},
       "--name \"No_Good\" is not an object name"},
      {{"color", "-z", "staging", "--to", "127.0.0.1:8080"}, "--key KEY (the routing key) is"},
      {{"color", "--key", "ana", "--to", "127.0.0.1:8080"}, "--zone is required"},
      {{"color", "-z", "staging", "--key", "ana", "--to", "127.0.0.1:8080", "--tunnel", "edge"},
       "--tunnel \"edge\": no port"},
      {{"color", "-z", "staging", "--key", "ana", "--to", "127.0.0.1:8080", "--tunnel", "edge:9443",
        "--tunnel-ca", "/nonexistent/ca.crt"},
       "--tunnel-ca \"/nonexistent/ca.crt\": cannot read the file"},
  };
  for (const BadFlags& c : cases) {
    std::vector<std::string> args = {"intercept"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CliResult r = hub_.Run(args, {{"CAUSEWAY_TOKEN", ana_}});
    EXPECT_EQ(r.exit_code, 2) << c.error << "\n" << r.err;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
  }
  // A cluster the zone lacks: the hub's 400, naming the field.
  CliResult missing = hub_.Run(
      {"intercept", "nocluster", "-z", "staging", "--key", "ana", "--to", "127.0.0.1:8080"},
      {{"CAUSEWAY_TOKEN", ana_}});
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  EXPECT_NE(missing.err.find("nocluster"), std::string::npos) << missing.err;
  EXPECT_TRUE(StagingIntercepts().empty());
}

TEST_F(InterceptCommandTest, AnUnreachableHubAtTheStartIsAClearError) {
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(FreePort());
  CliResult r = hub_.Run({"intercept", "color", "-z", "staging", "--key", "ana", "--to",
                          "127.0.0.1:8080", "--hub", nowhere},
                         {{"CAUSEWAY_TOKEN", ana_}});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.err.find("cannot reach the hub at " + nowhere), std::string::npos) << r.err;
  // The top-level form of the flag reaches the verb too.
  r = hub_.Run({"--hub", nowhere, "intercept", "color", "-z", "staging", "--key", "ana", "--to",
                "127.0.0.1:8080"},
               {{"CAUSEWAY_TOKEN", ana_}});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_TRUE(StagingIntercepts().empty());
}

TEST_F(InterceptCommandTest, HelpShowsAnExample) {
  CliResult r = hub_.Run({"intercept", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("causeway intercept color --zone staging --key ana --to 127.0.0.1:8080"),
            std::string::npos)
      << r.out;
  for (const char* flag : {"--tunnel", "--tunnel-ca", "--lease-ms", "--to-protocol", "--name"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << "\n" << r.out;
  }
}

}  // namespace
}  // namespace causeway::testing
