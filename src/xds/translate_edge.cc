#include "xds/translate_edge.h"

#include <algorithm>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "google/protobuf/struct.pb.h"
#include "model/intercept.h"
#include "xds/translate.h"
#include "xds/type/v3/typed_struct.pb.h"

namespace causeway::xds {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

// {"keys": {"KEY": ["HASH", ...], ...}}
google::protobuf::Struct TableStruct(const EdgeKeyTable& table) {
  google::protobuf::Struct out;
  auto* keys = (*out.mutable_fields())["keys"].mutable_struct_value();
  for (const auto& [key, hashes] : table) {
    auto* list = (*keys->mutable_fields())[key].mutable_list_value();
    for (const std::string& hash : hashes) list->add_values()->set_string_value(hash);
  }
  return out;
}

}  // namespace

EdgeKeyTable EdgeKeysOf(const std::vector<model::Object>& objects) {
  EdgeKeyTable table;
  for (const model::Object& object : objects) {
    if (object.key.kind != model::Kind::kIntercept) continue;
    absl::StatusOr<model::Intercept> intercept = model::InterceptFromObject(object);
    if (!intercept.ok() || intercept->proof_sha256.empty()) continue;
    std::vector<std::string>& hashes = table[intercept->key];
    hashes.push_back(intercept->proof_sha256);
  }
  for (auto& [key, hashes] : table) {
    std::sort(hashes.begin(), hashes.end());
    hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  }
  return table;
}

envoy::config::listener::v3::Listener WithRoutingKeyGuard(
    const envoy::config::listener::v3::Listener& listener, const EdgeKeyTable& table) {
  envoy::config::listener::v3::Listener out = listener;
  ::xds::type::v3::TypedStruct typed;
  typed.set_type_url(std::string(kRoutingKeyGuardTypeUrl));
  *typed.mutable_value() = TableStruct(table);
  for (auto& chain : *out.mutable_filter_chains()) {
    for (auto& filter : *chain.mutable_filters()) {
      HttpConnectionManager hcm;
      if (!filter.typed_config().UnpackTo(&hcm)) continue;
      envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter guard;
      guard.set_name(std::string(kRoutingKeyGuardFilterName));
      *guard.mutable_typed_config() = PackDeterministic(typed);
      auto* filters = hcm.mutable_http_filters();
      // Before the router, which Envoy requires to be last.
      filters->Add(std::move(guard));
      if (filters->size() > 1) filters->SwapElements(filters->size() - 1, filters->size() - 2);
      *filter.mutable_typed_config() = PackDeterministic(hcm);
    }
  }
  return out;
}

}  // namespace causeway::xds
