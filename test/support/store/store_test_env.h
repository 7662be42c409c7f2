// Test environment for the store suite: a fresh store of either backend, and
// helpers to build changes.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "store/store.h"
#include "support/postgres_server.h"
#include "support/process.h"

namespace causeway::store::testing {

enum class Backend { kSqlite, kPostgres };
std::string BackendName(Backend backend);
// For GoogleTest's messages ("Sqlite" rather than the enum's bytes).
inline void PrintTo(Backend backend, std::ostream* os) { *os << BackendName(backend); }

// One empty database of `backend`: a temporary directory for SQLite, a fresh
// database on a server shared by the tests of this process for PostgreSQL.
class StoreEnv {
 public:
  explicit StoreEnv(Backend backend);

  Backend backend() const { return backend_; }
  // What OpenStore takes: `spec` and `data_dir`.
  const std::string& spec() const { return spec_; }
  const std::string& data_dir() const { return dir_.path(); }

  absl::StatusOr<std::unique_ptr<Store>> Open() const;

  // Makes the database itself reject change-log rows for objects named
  // `name` (a trigger), so a failure happens in the middle of a batch.
  // Call after Open() created the schema.
  void FailInsertsNamed(const std::string& name);

  // The shared server (PostgreSQL backend only).
  static ::causeway::testing::PostgresServer& Server();

 private:
  Backend backend_;
  ::causeway::testing::TempDir dir_;
  std::string spec_;
  std::string database_;
};

// Builders. Objects are Clusters unless a kind is given; specs carry a
// `note` so updates are visible.
model::Object MakeObject(const std::string& zone, const std::string& name, int64_t version,
                         const std::string& note, model::Kind kind = model::Kind::kCluster);
Change Create(int64_t revision, const model::Object& after, const std::string& actor = "admin");
Change Update(int64_t revision, const model::Object& before, const model::Object& after);
Change Delete(int64_t revision, const model::Object& before);

}  // namespace causeway::store::testing
