// Create, read, list, replace and delete every kind; references; apply.
#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

class CrudTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.Start();
    api_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
  }
  HubProcess hub_;
  std::unique_ptr<Api> api_;
};

TEST_F(CrudTest, EveryKindRoundTrips) {
  SeedZone(*api_, "dev");
  struct Case {
    std::string path;  // item path
    std::string field;
    Json value;
  };
  std::vector<Case> cases = {
      {"/v1/zones/dev", "description", "changed"},
      {"/v1/zones/dev/clusters/web", "instances",
       Json::array({{{"host", "10.0.0.2"}, {"port", 9090}, {"metadata", Json::object()}}})},
      {"/v1/zones/dev/domains/api.example.com:80", "aliases", Json::array({"*.example.com"})},
      {"/v1/zones/dev/route-groups/main", "default",
       Json::array({{{"cluster", "web"}, {"weight", 3}, {"metadata", Json::object()}}})},
      {"/v1/zones/dev/routes/root", "timeout_ms", 1500},
      {"/v1/zones/dev/proxies/edge", "domains", Json::array()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    auto got = api_->Get(c.path);
    ASSERT_EQ(got.status, 200) << got.raw.body;
    Json object = got.body;
    EXPECT_FALSE(object.value("version", "").empty());
    EXPECT_FALSE(got.raw.Header("etag").empty());
    object[c.field] = c.value;
    auto put = api_->Put(c.path, object);
    ASSERT_EQ(put.status, 200) << put.raw.body;
    EXPECT_EQ(put.body[c.field], c.value);
    EXPECT_NE(put.body["version"], got.body["version"]);
    EXPECT_EQ(api_->Get(c.path).body[c.field], c.value);
  }

  // Lists, with the revision they reflect, and filters.
  auto routes = api_->Get("/v1/zones/dev/routes");
  ASSERT_EQ(routes.status, 200);
  ASSERT_EQ(routes.body["items"].size(), 1u);
  EXPECT_EQ(routes.body["items"][0]["name"], "root");
  EXPECT_FALSE(routes.body.value("revision", "").empty());
  EXPECT_EQ(api_->Get("/v1/zones/dev/routes?name_prefix=ro").body["items"].size(), 1u);
  EXPECT_EQ(api_->Get("/v1/zones/dev/routes?name_prefix=x").body["items"].size(), 0u);
  EXPECT_EQ(api_->Get("/v1/zones/dev/routes?route_group=main").body["items"].size(), 1u);
  SeedZone(*api_, "qa");
  EXPECT_EQ(api_->Get("/v1/clusters").body["items"].size(), 2u);
  EXPECT_EQ(api_->Get("/v1/clusters?zone=qa").body["items"].size(), 1u);
  EXPECT_EQ(api_->Get("/v1/zones").body["items"].size(), 2u);

  // Delete in dependency order; each is gone afterwards.
  for (std::string path :
       {"/v1/zones/dev/proxies/edge", "/v1/zones/dev/routes/root",
        "/v1/zones/dev/route-groups/main", "/v1/zones/dev/domains/api.example.com%3A80",
        "/v1/zones/dev/clusters/web"}) {
    SCOPED_TRACE(path);
    auto del = api_->Delete(path);
    EXPECT_EQ(del.status, 200) << del.raw.body;
    EXPECT_EQ(api_->Get(path).status, 404);
  }
  auto del = api_->Delete("/v1/zones/dev");
  EXPECT_EQ(del.status, 200) << del.raw.body;
  EXPECT_EQ(api_->Get("/v1/zones/dev").status, 404);
}

TEST_F(CrudTest, CreateReturnsLocationAndRejectsDuplicates) {
  auto res = api_->Post("/v1/zones", {{"name", "dev"}});
  ASSERT_EQ(res.status, 201) << res.raw.body;
  EXPECT_EQ(res.raw.Header("location"), "/v1/zones/dev");
  EXPECT_EQ(res.body["kind"], "Zone");
  auto again = api_->Post("/v1/zones", {{"name", "dev"}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.code(), "already_exists");
}

TEST_F(CrudTest, StaleVersionGetsConflictWithCurrentObject) {
  SeedZone(*api_, "dev");
  Json v1 = api_->Get("/v1/zones/dev/clusters/web").body;
  Json update = v1;
  update["instances"] = Json::array({{{"host", "10.0.0.9"}, {"port", 1}}});
  ASSERT_EQ(api_->Put("/v1/zones/dev/clusters/web", update).status, 200);
  auto stale = api_->Put("/v1/zones/dev/clusters/web", v1);
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.body["current"]["instances"][0]["host"], "10.0.0.9");

  // If-Match works too, and DELETE honours it.
  Json body = v1;
  body.erase("version");
  auto if_match = api_->Call("PUT", "/v1/zones/dev/clusters/web", body,
                             {{"If-Match", "\"" + v1["version"].get<std::string>() + "\""}});
  EXPECT_EQ(if_match.status, 409);
  auto no_version = api_->Put("/v1/zones/dev/clusters/web", body);
  EXPECT_EQ(no_version.status, 400);
  EXPECT_EQ(no_version.field(), "version");
  // (The cluster is referenced, so even a current-version delete is refused.)
  auto stale_delete = api_->Delete("/v1/zones/dev/proxies/edge?version=1");
  EXPECT_EQ(stale_delete.status, 409);
  std::string current = api_->Get("/v1/zones/dev/proxies/edge").body["version"];
  EXPECT_EQ(api_->Delete("/v1/zones/dev/proxies/edge?version=" + current).status, 200);
}

TEST_F(CrudTest, ReferencesMustResolveAndBlockDeletes) {
  SeedZone(*api_, "dev");
  auto bad = api_->Post("/v1/zones/dev/routes", {{"name", "other"},
                                                 {"domain", "api.example.com:80"},
                                                 {"path", "/x"},
                                                 {"route_group", "missing"}});
  EXPECT_EQ(bad.status, 400) << bad.raw.body;
  EXPECT_EQ(bad.field(), "route_group");
  EXPECT_EQ(api_->Get("/v1/zones/dev/routes/other").status, 404);

  auto used = api_->Delete("/v1/zones/dev/clusters/web");
  EXPECT_EQ(used.status, 409) << used.raw.body;
  EXPECT_NE(used.raw.body.find("main"), std::string::npos) << used.raw.body;
  ASSERT_TRUE(used.body.contains("referrers"));
  EXPECT_EQ(used.body["referrers"][0]["kind"], "RouteGroup");
  EXPECT_EQ(used.body["referrers"][0]["name"], "main");
  EXPECT_EQ(api_->Get("/v1/zones/dev/clusters/web").status, 200);
}

TEST_F(CrudTest, InstancesSubResource) {
  SeedZone(*api_, "dev");
  auto put = api_->Put(
      "/v1/zones/dev/clusters/web/instances",
      Json::array({{{"host", "10.1.1.1"}, {"port", 80}}, {{"host", "10.1.1.2"}, {"port", 80}}}));
  ASSERT_EQ(put.status, 200) << put.raw.body;
  EXPECT_EQ(put.body["instances"].size(), 2u);
  // A new cluster is created on first sync.
  auto created = api_->Put("/v1/zones/dev/clusters/fresh/instances",
                           {{"instances", {{{"host", "10.2.2.2"}, {"port", 81}}}}});
  ASSERT_EQ(created.status, 200) << created.raw.body;
  EXPECT_EQ(api_->Get("/v1/zones/dev/clusters/fresh/instances").body["instances"].size(), 1u);
  auto bad = api_->Put("/v1/zones/dev/clusters/web/instances",
                       Json::array({{{"host", "10.1.1.1"}, {"port", "eighty"}}}));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.field(), "instances[0].port");
}

TEST_F(CrudTest, ApplyIsAllOrNothing) {
  Json docs = Json::array({
      {{"kind", "Zone"}, {"name", "dev"}},
      {{"kind", "Cluster"}, {"zone", "dev"}, {"name", "web"}, {"instances", Json::array()}},
      {{"kind", "RouteGroup"},
       {"zone", "dev"},
       {"name", "main"},
       {"default", {{{"cluster", "web"}}}}},
  });
  auto first = api_->Post("/v1/apply", docs);
  ASSERT_EQ(first.status, 200) << first.raw.body;
  ASSERT_EQ(first.body["results"].size(), 3u);
  for (const Json& r : first.body["results"]) EXPECT_EQ(r["outcome"], "created");

  auto again = api_->Post("/v1/apply", docs);
  ASSERT_EQ(again.status, 200) << again.raw.body;
  for (const Json& r : again.body["results"]) EXPECT_EQ(r["outcome"], "unchanged");

  // One bad document (a reference to a missing cluster) fails the lot.
  Json mixed = Json::array({
      {{"kind", "Cluster"}, {"zone", "dev"}, {"name", "api"}, {"instances", Json::array()}},
      {{"kind", "RouteGroup"},
       {"zone", "dev"},
       {"name", "main"},
       {"default", {{{"cluster", "nope"}}}}},
  });
  auto failed = api_->Post("/v1/apply", mixed);
  EXPECT_EQ(failed.status, 400) << failed.raw.body;
  EXPECT_EQ(api_->Get("/v1/zones/dev/clusters/api").status, 404);
  EXPECT_EQ(api_->Get("/v1/zones/dev/route-groups/main").body["default"][0]["cluster"], "web");

  // A document that does not parse is named by its index.
  auto unparsable = api_->Post(
      "/v1/apply", Json::array({{{"kind", "Cluster"}, {"zone", "dev"}, {"name", "x"}},
                                {{"kind", "Cluster"}, {"zone", "dev"}, {"name", "BAD"}}}));
  EXPECT_EQ(unparsable.status, 400);
  EXPECT_EQ(unparsable.field(), "items[1].name");
  EXPECT_EQ(api_->Get("/v1/zones/dev/clusters/x").status, 404);

  auto dry = api_->Post("/v1/apply?dry_run=true",
                        Json::array({{{"kind", "Cluster"}, {"zone", "dev"}, {"name", "dry"}}}));
  ASSERT_EQ(dry.status, 200) << dry.raw.body;
  EXPECT_EQ(dry.body["results"][0]["outcome"], "created");
  EXPECT_EQ(api_->Get("/v1/zones/dev/clusters/dry").status, 404);
}

TEST_F(CrudTest, ChangelogRecordsWho) {
  SeedZone(*api_, "dev");
  auto log = api_->Get("/v1/changelog?zone=dev&kind=Route");
  ASSERT_EQ(log.status, 200) << log.raw.body;
  ASSERT_EQ(log.body["items"].size(), 1u);
  const Json& c = log.body["items"][0];
  EXPECT_EQ(c["actor"], "admin");
  EXPECT_EQ(c["op"], "create");
  EXPECT_EQ(c["name"], "root");
  EXPECT_TRUE(c["before"].is_null());
  EXPECT_EQ(c["after"]["route_group"], "main");
  auto page = api_->Get("/v1/changelog?limit=2");
  ASSERT_EQ(page.body["items"].size(), 2u);
  auto next = api_->Get("/v1/changelog?limit=2&since=" + page.body["next"].get<std::string>());
  EXPECT_EQ(next.body["items"][0]["revision"], "3");
  EXPECT_EQ(api_->Get("/v1/changelog?bogus=1").status, 400);
}

TEST_F(CrudTest, HealthReadyMetrics) {
  Api anonymous(hub_.url(), "");
  EXPECT_EQ(anonymous.Get("/healthz").status, 200);
  EXPECT_EQ(anonymous.Get("/readyz").status, 200);
  SeedZone(*api_, "dev");
  auto metrics = anonymous.Raw("GET", "/metrics", "");
  ASSERT_EQ(metrics.status, 200);
  const std::string& text = metrics.raw.body;
  EXPECT_NE(
      text.find("causeway_http_requests_total{route=\"/v1/zones\",method=\"POST\",code=\"201\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("causeway_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(text.find("causeway_catalog_objects{kind=\"Route\"} 1"), std::string::npos);
  EXPECT_NE(text.find("causeway_watch_streams 0"), std::string::npos);
}

TEST_F(CrudTest, GracefulStopExitsCleanly) {
  SeedZone(*api_, "dev");
  int status = hub_.Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << hub_.Log();
  hub_.Start();
  Api again(hub_.url(), hub_.admin_token());
  EXPECT_EQ(again.Get("/v1/zones/dev/routes/root").status, 200);
}

}  // namespace
}  // namespace causeway::testing
