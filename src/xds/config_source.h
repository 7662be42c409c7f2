// ConfigSource: what the xDS server reads its zones from. The hub serves from
// its Catalog; `causeway agent --xds` serves from a copy of one zone that it
// keeps current from the hub's watch stream and its own collectors
// (discovery/replica). Both give the server the same three things: one
// zone's objects, a revision for status pages, and word of which zones moved.
//
// Objects come with a stamp, a number that changes whenever the object's
// content does (the hub's object version; an agent numbers its own changes),
// so a reader that remembers stamps can fetch only what moved.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "model/objects.h"

namespace causeway::xds {

// One consistent read of a zone (ConfigSource::ReadZone).
struct ZoneRead {
  // Every object of the zone with its stamp, the zone object first, then by
  // kind (model::kAllKinds order, clusters last) and name.
  std::vector<std::pair<model::ObjectKey, int64_t>> stamps;
  // The objects the reader asked for, in the same order.
  std::vector<model::Object> objects;
};

class ConfigSource {
 public:
  // Asked once per object, in ZoneRead::stamps order, while the source is
  // locked: whether to copy the object into ZoneRead::objects. Must be quick
  // and must not call back into the source.
  using WantFn = std::function<bool(const model::ObjectKey& key, int64_t stamp)>;

  virtual ~ConfigSource() = default;

  // The revision the objects reflect (status pages only).
  virtual int64_t Revision() const = 0;
  virtual ZoneRead ReadZone(const std::string& zone, const WantFn& want) const = 0;
  virtual bool HasZone(const std::string& zone) const = 0;

  // Every object of `zone`, in ZoneRead order.
  std::vector<model::Object> ZoneObjects(const std::string& zone) const {
    return ReadZone(zone, [](const model::ObjectKey&, int64_t) { return true; }).objects;
  }

  // `fn(zones)` is called after objects of `zones` changed; it must not
  // block. Returns an id for Unsubscribe.
  using Listener = std::function<void(const std::vector<std::string>& zones)>;
  virtual int Subscribe(Listener fn) = 0;
  virtual void Unsubscribe(int id) = 0;
};

// The hub's catalog as a ConfigSource.
class CatalogConfigSource final : public ConfigSource {
 public:
  explicit CatalogConfigSource(catalog::Catalog* catalog) : catalog_(catalog) {}

  int64_t Revision() const override { return catalog_->Revision(); }
  // Stamps are object versions.
  ZoneRead ReadZone(const std::string& zone, const WantFn& want) const override {
    ZoneRead out;
    catalog_->Read([&](int64_t, const std::map<model::ObjectKey, model::Object>& objects) {
      for (model::Kind kind : model::kAllKinds) {
        for (auto it = objects.lower_bound(model::ObjectKey{kind, zone, ""});
             it != objects.end() && it->first.kind == kind && it->first.zone == zone; ++it) {
          out.stamps.emplace_back(it->first, it->second.version);
          if (want(it->first, it->second.version)) out.objects.push_back(it->second);
        }
      }
    });
    return out;
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
  catalog::Catalog* const catalog_;
};

}  // namespace causeway::xds
