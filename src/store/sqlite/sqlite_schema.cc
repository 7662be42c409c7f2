#include "store/sqlite/sqlite_schema.h"

#include "common/status.h"
#include "common/strings.h"
#include "store/store_codec.h"

namespace causeway::store {
namespace {

// Migration N takes the schema from version N-1 to N. Append, never edit.
constexpr const char* kMigrations[] = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE objects (
  kind TEXT NOT NULL,
  zone TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  spec TEXT NOT NULL,
  PRIMARY KEY (kind, zone, name)
) WITHOUT ROWID;
CREATE TABLE changelog (
  revision INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL,
  zone TEXT NOT NULL,
  name TEXT NOT NULL,
  op TEXT NOT NULL,
  before TEXT,
  after TEXT
);
CREATE INDEX changelog_by_zone ON changelog (zone, revision);
CREATE TABLE meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  revision INTEGER NOT NULL
);
INSERT INTO meta (id, revision) VALUES (1, 0);
CREATE TABLE tokens (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  zone TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
)sql",
    // 2: token expiry and last use (0 = never).
    R"sql(
ALTER TABLE tokens ADD COLUMN expires_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN last_used_at_ms INTEGER NOT NULL DEFAULT 0;
)sql",
    // 3: the revision the change log is compacted through (0 = nothing).
    R"sql(
ALTER TABLE meta ADD COLUMN compacted_through INTEGER NOT NULL DEFAULT 0;
)sql",
    // 4: the secret routing-key proofs derive from (NULL until first asked).
    R"sql(
ALTER TABLE meta ADD COLUMN key_proof_secret TEXT;
)sql",
};
static_assert(std::size(kMigrations) == internal::kSchemaVersion);

}  // namespace

absl::Status MigrateSqlite(SqliteDb& db) {
  // IMMEDIATE: two processes opening a fresh file must not both migrate.
  CW_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  auto result = [&]() -> absl::Status {
    int64_t version = 0;
    {
      CW_ASSIGN_OR_RETURN(SqliteQuery query, db.Prepare("PRAGMA user_version"));
      CW_ASSIGN_OR_RETURN(bool row, query.Step());
      if (row) version = query.Int(0);
    }
    if (version > internal::kSchemaVersion) {
      return absl::FailedPreconditionError(
          StrCat("sqlite: ", db.path(), ": schema version ", version,
                 " is newer than this causeway understands (", internal::kSchemaVersion, ")"));
    }
    for (int64_t v = version; v < internal::kSchemaVersion; ++v) {
      CW_RETURN_IF_ERROR(db.Exec(kMigrations[v]));
    }
    if (version != internal::kSchemaVersion) {
      std::string set = StrCat("PRAGMA user_version = ", internal::kSchemaVersion);
      CW_RETURN_IF_ERROR(db.Exec(set.c_str()));
    }
    return db.Exec("COMMIT");
  }();
  if (!result.ok()) db.RollbackIfOpen();
  return result;
}

}  // namespace causeway::store
