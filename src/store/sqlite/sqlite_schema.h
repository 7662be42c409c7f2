// The SQLite schema and its migrations, tracked by PRAGMA user_version.
#pragma once

#include "absl/status/status.h"
#include "store/sqlite/sqlite_db.h"

namespace causeway::store {

// Brings the database to internal::kSchemaVersion in one transaction. A
// database from a newer causeway is refused rather than misread.
absl::Status MigrateSqlite(SqliteDb& db);

}  // namespace causeway::store
