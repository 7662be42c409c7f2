#include "discovery/sync/catalog_hub_api.h"

#include "absl/strings/numbers.h"
#include "common/strings.h"

namespace causeway::discovery {
namespace {

absl::StatusOr<std::optional<int64_t>> ParseVersion(const std::string& version) {
  if (version.empty()) return std::optional<int64_t>();
  int64_t v = 0;
  if (!absl::SimpleAtoi(ToAbsl(version), &v)) {
    return absl::InvalidArgumentError(ToAbsl(StrCat("bad version \"", version, "\"")));
  }
  return std::optional<int64_t>(v);
}

// The Catalog says FAILED_PRECONDITION for both a stale version and
// referrers; the HubApi contract tells them apart.
absl::Status MapWriteError(const absl::Status& status) {
  if (absl::IsFailedPrecondition(status) &&
      !status.GetPayload(ToAbsl(catalog::kReferrersPayload)).has_value()) {
    return absl::AbortedError(status.message());
  }
  return status;
}

}  // namespace

CatalogHubApi::CatalogHubApi(catalog::Catalog* catalog, std::string zone, std::string actor)
    : catalog_(catalog), zone_(std::move(zone)), actor_(std::move(actor)) {}

absl::StatusOr<HubCluster> CatalogHubApi::FromObject(const model::Object& object) const {
  auto cluster = model::ClusterFromObject(object);
  if (!cluster.ok()) return cluster.status();
  HubCluster out{std::to_string(object.version), std::move(cluster->instances)};
  Normalize(out.instances);
  return out;
}

absl::StatusOr<std::map<std::string, HubCluster>> CatalogHubApi::ListClusters() {
  std::map<std::string, HubCluster> out;
  for (const model::Object& object : catalog_->List(model::Kind::kCluster, zone_)) {
    auto cluster = FromObject(object);
    if (!cluster.ok()) return cluster.status();
    out[object.key.name] = *std::move(cluster);
  }
  return out;
}

absl::StatusOr<HubCluster> CatalogHubApi::GetCluster(const std::string& name) {
  auto object = catalog_->Get(model::ObjectKey{model::Kind::kCluster, zone_, name});
  if (!object) return absl::NotFoundError(ToAbsl(StrCat("cluster ", name, " not found")));
  return FromObject(*object);
}

absl::StatusOr<HubCluster> CatalogHubApi::PutInstances(const std::string& name,
                                                       const Instances& instances,
                                                       const std::string& expected_version) {
  catalog::Mutation m;
  m.type = catalog::Mutation::Type::kSetInstances;
  m.key = model::ObjectKey{model::Kind::kCluster, zone_, name};
  m.spec = model::Json{{"instances", model::InstancesToJson(instances)}};
  auto version = ParseVersion(expected_version);
  if (!version.ok()) return version.status();
  m.expected_version = *version;
  auto result = catalog_->Write({std::move(m)}, actor_);
  if (!result.ok()) return MapWriteError(result.status());
  if (result->results.empty() || !result->results[0].object) {
    return absl::InternalError("the write returned no object");
  }
  return FromObject(*result->results[0].object);
}

absl::Status CatalogHubApi::DeleteCluster(const std::string& name,
                                          const std::string& expected_version) {
  catalog::Mutation m;
  m.type = catalog::Mutation::Type::kDelete;
  m.key = model::ObjectKey{model::Kind::kCluster, zone_, name};
  auto version = ParseVersion(expected_version);
  if (!version.ok()) return version.status();
  m.expected_version = *version;
  auto result = catalog_->Write({std::move(m)}, actor_);
  if (!result.ok() && absl::IsNotFound(result.status())) return absl::OkStatus();
  if (!result.ok()) return MapWriteError(result.status());
  return absl::OkStatus();
}

}  // namespace causeway::discovery
