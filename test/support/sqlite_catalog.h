// SqliteCatalog: a hub catalog, opened, on the embedded SQLite store in a
// temporary directory of its own: what tests of the code above the catalog
// (xDS snapshots, the ADS server, the discovery sync) start from.
#pragma once

#include <memory>

#include "catalog/catalog.h"
#include "common/time_source.h"
#include "store/store.h"
#include "support/process.h"

namespace causeway::testing {

class SqliteCatalog {
 public:
  // Throws std::runtime_error, naming the cause, if the store or the catalog
  // does not open.
  explicit SqliteCatalog(const TimeSource* time = &RealTime::Instance());
  ~SqliteCatalog();
  SqliteCatalog(const SqliteCatalog&) = delete;
  SqliteCatalog& operator=(const SqliteCatalog&) = delete;

  catalog::Catalog* get() const { return catalog_.get(); }
  catalog::Catalog* operator->() const { return catalog_.get(); }
  store::Store* store() const { return store_.get(); }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
};

}  // namespace causeway::testing
