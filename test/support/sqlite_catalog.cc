#include "support/sqlite_catalog.h"

#include <stdexcept>
#include <string>

namespace causeway::testing {

SqliteCatalog::SqliteCatalog(const TimeSource* time) {
  auto store = store::OpenStore("", dir_.path());
  if (!store.ok()) throw std::runtime_error("test store: " + std::string(store.status().message()));
  store_ = std::move(*store);
  catalog_ = std::make_unique<catalog::Catalog>(store_.get(), time);
  if (auto s = catalog_->Open(); !s.ok()) {
    throw std::runtime_error("test catalog: " + std::string(s.message()));
  }
}

SqliteCatalog::~SqliteCatalog() { catalog_->Close(); }

}  // namespace causeway::testing
