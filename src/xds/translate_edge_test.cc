// Edge listeners: the routing-key guard goes before the router with the
// table of the zone's intercepts, hashes only.
#include "xds/translate_edge.h"

#include <string>
#include <vector>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/intercept.h"
#include "support/xds/translate_test_util.h"
#include "xds/translate.h"
#include "xds/type/v3/typed_struct.pb.h"

namespace causeway::xds {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using ::testing::ElementsAre;

model::Object EdgeTestIntercept(const std::string& name, const std::string& key,
                                const std::string& owner, char hash_digit) {
  model::Intercept v{.name = name, .cluster = "envoy-simple", .key = key, .lease_ms = 30000};
  v.owner = owner;
  v.expires_at_ms = 1796637605250;
  if (hash_digit != 0) v.proof_sha256 = std::string(64, hash_digit);
  return testing::MakeObject(model::Kind::kIntercept, name, v);
}

TEST(TranslateEdgeTest, TableHoldsEachKeysHashesSortedAndSkipsUnstamped) {
  std::vector<model::Object> objects = {
      EdgeTestIntercept("ana-api", "ana", "ana", 'b'),
      EdgeTestIntercept("ana-web", "ana", "ana", 'b'),     // same owner: one hash
      EdgeTestIntercept("ana-old", "ana", "former", 'a'),  // expired, not yet swept
      EdgeTestIntercept("bo-api", "bo", "bo", 0),          // written before proofs
  };
  EdgeKeyTable table = EdgeKeysOf(objects);
  ASSERT_EQ(table.size(), 1u);
  EXPECT_THAT(table["ana"], ElementsAre(std::string(64, 'a'), std::string(64, 'b')));
}

TEST(TranslateEdgeTest, GuardGoesBeforeTheRouterWithTheTable) {
  testing::ZoneBuilder zone = testing::SeedZone();
  ZoneView view = zone.View();
  auto resources = TranslateProxy(view, "dev-proxy");
  ASSERT_TRUE(resources.ok()) << resources.status();
  ASSERT_FALSE(resources->listeners.empty());
  EdgeKeyTable table = {{"ana", {std::string(64, 'c')}}};
  auto edge = WithRoutingKeyGuard(resources->listeners[0], table);

  HttpConnectionManager hcm;
  ASSERT_TRUE(edge.filter_chains(0).filters(0).typed_config().UnpackTo(&hcm));
  ASSERT_EQ(hcm.http_filters_size(), 2);
  EXPECT_EQ(hcm.http_filters(0).name(), kRoutingKeyGuardFilterName);
  EXPECT_EQ(hcm.http_filters(1).name(), "envoy.filters.http.router");
  EXPECT_FALSE(hcm.http_filters(0).is_optional());  // Envoy must refuse it, not skip it
  ::xds::type::v3::TypedStruct typed;
  ASSERT_TRUE(hcm.http_filters(0).typed_config().UnpackTo(&typed));
  EXPECT_EQ(typed.type_url(), kRoutingKeyGuardTypeUrl);
  const auto& keys = typed.value().fields().at("keys").struct_value();
  ASSERT_EQ(keys.fields().at("ana").list_value().values_size(), 1);
  EXPECT_EQ(keys.fields().at("ana").list_value().values(0).string_value(), std::string(64, 'c'));

  // The listener given is left as it was: non-edge proxies share it.
  HttpConnectionManager plain;
  ASSERT_TRUE(resources->listeners[0].filter_chains(0).filters(0).typed_config().UnpackTo(&plain));
  EXPECT_EQ(plain.http_filters_size(), 1);
}

}  // namespace
}  // namespace causeway::xds
