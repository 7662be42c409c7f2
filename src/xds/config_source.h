// ConfigSource: what the xDS server reads its zones from. The hub serves from
// its Catalog; `causeway agent --xds` serves from a copy of one zone that it
// keeps current from the hub's watch stream and its own collectors
// (discovery/replica). Both give the server the same three things: one
// zone's objects, a revision for status pages, and word of which zones moved.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hub/catalog.h"
#include "model/objects.h"

namespace causeway::xds {

class ConfigSource {
 public:
  virtual ~ConfigSource() = default;

  // The revision the objects reflect (status pages only).
  virtual int64_t Revision() const = 0;
  // Every object of `zone`, the zone object first, then by kind and name
  // (the order of Catalog::ZoneObjects).
  virtual std::vector<model::Object> ZoneObjects(const std::string& zone) const = 0;
  virtual bool HasZone(const std::string& zone) const = 0;

  // `fn(zones)` is called after objects of `zones` changed; it must not
  // block. Returns an id for Unsubscribe.
  using Listener = std::function<void(const std::vector<std::string>& zones)>;
  virtual int Subscribe(Listener fn) = 0;
  virtual void Unsubscribe(int id) = 0;
};

// The hub's catalog as a ConfigSource.
class CatalogConfigSource final : public ConfigSource {
 public:
  explicit CatalogConfigSource(hub::Catalog* catalog) : catalog_(catalog) {}

  int64_t Revision() const override { return catalog_->Revision(); }
  std::vector<model::Object> ZoneObjects(const std::string& zone) const override {
    return catalog_->ZoneObjects(zone);
  }
  bool HasZone(const std::string& zone) const override {
    return catalog_->Get({model::Kind::kZone, zone, zone}).has_value();
  }
  int Subscribe(Listener fn) override {
    return catalog_->Subscribe([fn = std::move(fn)](const std::vector<store::Change>& changes) {
      std::vector<std::string> zones;
      for (const auto& change : changes) {
        if (zones.empty() || zones.back() != change.key.zone) zones.push_back(change.key.zone);
      }
      fn(zones);
    });
  }
  void Unsubscribe(int id) override { catalog_->Unsubscribe(id); }

 private:
  hub::Catalog* const catalog_;
};

}  // namespace causeway::xds
