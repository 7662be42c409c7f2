#include "proxy/config/routing_key_guard_config.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "xds/type/v3/typed_struct.pb.h"

namespace causeway::proxy {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter;

absl::Status GuardInvalid(const std::string& where, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
}

// [A-Za-z0-9._-]{1,32}, as the hub's routing keys.
bool IsGuardedKey(std::string_view key) {
  return !key.empty() && key.size() <= 32 && std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

absl::Status ReadHashes(const google::protobuf::Value& value, const std::string& where,
                        std::vector<std::string>* out) {
  if (!value.has_list_value()) return GuardInvalid(where, "must be a list of SHA-256 hex strings");
  for (int i = 0; i < value.list_value().values_size(); ++i) {
    const google::protobuf::Value& hash = value.list_value().values(i);
    if (!hash.has_string_value() || !IsSha256Hex(hash.string_value())) {
      return GuardInvalid(absl::StrCat(where, "[", i, "]"),
                          "must be a SHA-256 of 64 lowercase hex digits");
    }
    out->push_back(hash.string_value());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const RoutingKeyTable>> ReadTable(
    const google::protobuf::Struct& value, const std::string& where) {
  auto table = std::make_shared<RoutingKeyTable>();
  for (const auto& [name, field] : value.fields()) {
    if (name != "keys") return GuardInvalid(absl::StrCat(where, ".", name), "unknown field");
  }
  auto keys = value.fields().find("keys");
  if (keys == value.fields().end()) return table;
  if (!keys->second.has_struct_value()) return GuardInvalid(where + ".keys", "must be an object");
  for (const auto& [key, hashes] : keys->second.struct_value().fields()) {
    const std::string at = absl::StrCat(where, ".keys[\"", key, "\"]");
    if (!IsGuardedKey(key)) return GuardInvalid(at, "not a routing key");
    absl::Status read = ReadHashes(hashes, at, &table->hashes[key]);
    if (!read.ok()) return read;
  }
  return table;
}

}  // namespace

bool IsRoutingKeyGuardFilter(const HttpFilter& filter) {
  ::xds::type::v3::TypedStruct typed;
  return filter.has_typed_config() && filter.typed_config().Is<::xds::type::v3::TypedStruct>() &&
         filter.typed_config().UnpackTo(&typed) && typed.type_url() == kRoutingKeyGuardTypeUrl;
}

absl::StatusOr<std::shared_ptr<const RoutingKeyTable>> BuildRoutingKeyGuard(
    const HttpConnectionManager& hcm, const std::string& where) {
  std::shared_ptr<const RoutingKeyTable> out;
  for (int i = 0; i < hcm.http_filters_size(); ++i) {
    const HttpFilter& filter = hcm.http_filters(i);
    if (!IsRoutingKeyGuardFilter(filter)) continue;
    const std::string at = absl::StrCat(where, ".http_filters[", i, "]");
    if (out != nullptr) return GuardInvalid(at, "a second routing-key guard");
    ::xds::type::v3::TypedStruct typed;
    if (!filter.typed_config().UnpackTo(&typed)) return GuardInvalid(at, "cannot unpack");
    absl::StatusOr<std::shared_ptr<const RoutingKeyTable>> table =
        ReadTable(typed.value(), at + ".typed_config.value");
    if (!table.ok()) return table.status();
    out = *std::move(table);
  }
  return out;
}

}  // namespace causeway::proxy
