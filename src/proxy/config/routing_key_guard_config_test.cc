// The routing-key guard filter as the hub sends it: built into the
// listener's table; anything malformed is refused naming the field.
#include "proxy/config/routing_key_guard_config.h"

#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proxy/config/build_config.h"
#include "support/xds/translate_test_util.h"
#include "xds/translate.h"
#include "xds/translate_edge.h"
#include "xds/type/v3/typed_struct.pb.h"

namespace causeway::proxy {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RoutingKeyGuardConfigTest, TypeUrlIsTheHubs) {
  EXPECT_EQ(kRoutingKeyGuardTypeUrl, xds::kRoutingKeyGuardTypeUrl);
}

// The hub's edge listener builds, and its listener config carries the table.
TEST(RoutingKeyGuardConfigTest, HubsEdgeListenerBuildsWithTheTable) {
  xds::ZoneView view = xds::testing::SeedZone().View();
  auto resources = xds::TranslateProxy(view, "dev-proxy");
  ASSERT_TRUE(resources.ok()) << resources.status();
  const std::string hash(64, 'd');
  auto edge = xds::WithRoutingKeyGuard(resources->listeners[0], {{"ana", {hash}}});
  ConfigInput input;
  input.listeners = {&edge};
  for (const auto& r : resources->routes) input.routes.push_back(&r);
  for (const auto& c : resources->clusters) input.clusters.push_back(&c);
  for (const auto& e : resources->endpoints) input.endpoints.push_back(&e);
  auto built = BuildConfig(input);
  ASSERT_TRUE(built.ok()) << built.status();
  const ListenerConfig& listener = (*built)->listeners.at(0);
  ASSERT_NE(listener.key_guard, nullptr);
  EXPECT_THAT(listener.key_guard->hashes.at("ana"), ElementsAre(hash));

  // The plain listener has no guard.
  input.listeners = {&resources->listeners[0]};
  auto plain = BuildConfig(input);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)->listeners.at(0).key_guard, nullptr);
}

HttpConnectionManager GuardManager(const google::protobuf::Struct& value) {
  ::xds::type::v3::TypedStruct typed;
  typed.set_type_url(std::string(kRoutingKeyGuardTypeUrl));
  *typed.mutable_value() = value;
  HttpConnectionManager hcm;
  auto* filter = hcm.add_http_filters();
  filter->set_name("causeway.filters.http.routing_key_guard");
  filter->mutable_typed_config()->PackFrom(typed);
  return hcm;
}

TEST(RoutingKeyGuardConfigTest, MalformedTablesAreRefusedNamingTheField) {
  struct Case {
    std::string json;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {R"({"other": 1})", "value.other: unknown field"},
      {R"({"keys": []})", "value.keys: must be an object"},
      {R"({"keys": {"a b": []}})", "keys[\"a b\"]: not a routing key"},
      {R"({"keys": {"ana": "x"}})", "keys[\"ana\"]: must be a list"},
      {R"({"keys": {"ana": ["ABC"]}})", "keys[\"ana\"][0]: must be a SHA-256"},
  };
  for (const Case& c : cases) {
    google::protobuf::Struct value;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(c.json, &value).ok()) << c.json;
    auto built = BuildRoutingKeyGuard(GuardManager(value), "listener 'x'");
    ASSERT_FALSE(built.ok()) << c.json;
    EXPECT_THAT(built.status().message(), HasSubstr(c.expect)) << c.json;
    EXPECT_THAT(built.status().message(), HasSubstr("listener 'x'.http_filters[0]"));
  }
  google::protobuf::Struct empty;
  auto none = BuildRoutingKeyGuard(GuardManager(empty), "listener 'x'");
  ASSERT_TRUE(none.ok()) << none.status();
  ASSERT_NE(*none, nullptr);
  EXPECT_TRUE((*none)->hashes.empty());
}

}  // namespace
}  // namespace causeway::proxy
