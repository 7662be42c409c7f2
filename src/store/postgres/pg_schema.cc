#include "store/postgres/pg_schema.h"

#include "common/status.h"
#include "common/strings.h"
#include "store/store_codec.h"

namespace causeway::store {
namespace {

// Migration N takes the schema from version N-1 to N. Append, never edit.
constexpr const char* kMigrations[] = {
    // 1: the initial schema. JSONB so operators can query specs and the log.
    R"sql(
CREATE TABLE objects (
  kind TEXT NOT NULL,
  zone TEXT NOT NULL,
  name TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  spec JSONB NOT NULL,
  PRIMARY KEY (kind, zone, name)
);
CREATE TABLE changelog (
  revision BIGINT PRIMARY KEY,
  time_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL,
  zone TEXT NOT NULL,
  name TEXT NOT NULL,
  op TEXT NOT NULL,
  before JSONB,
  after JSONB
);
CREATE INDEX changelog_by_zone ON changelog (zone, revision);
CREATE TABLE meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  revision BIGINT NOT NULL,
  schema_version INTEGER NOT NULL
);
INSERT INTO meta (id, revision, schema_version) VALUES (1, 0, 0);
CREATE TABLE tokens (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  zone TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL UNIQUE,
  created_at_ms BIGINT NOT NULL,
  created_by TEXT NOT NULL
);
)sql",
    // 2: token expiry and last use (0 = never).
    R"sql(
ALTER TABLE tokens ADD COLUMN expires_at_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN last_used_at_ms BIGINT NOT NULL DEFAULT 0;
)sql",
    // 3: the revision the change log is compacted through (0 = nothing).
    R"sql(
ALTER TABLE meta ADD COLUMN compacted_through BIGINT NOT NULL DEFAULT 0;
)sql",
    // 4: the secret routing-key proofs derive from (NULL until first asked).
    R"sql(
ALTER TABLE meta ADD COLUMN key_proof_secret TEXT;
)sql",
};
static_assert(std::size(kMigrations) == internal::kSchemaVersion);

// Arbitrary, fixed: the advisory lock key that serializes migrations.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7346282910)";

}  // namespace

absl::Status MigratePostgres(PgConn& conn) {
  CW_RETURN_IF_ERROR(conn.ExecSimple("BEGIN"));
  absl::Status status = [&]() -> absl::Status {
    CW_RETURN_IF_ERROR(conn.ExecSimple(kMigrationLock));
    CW_ASSIGN_OR_RETURN(PgResult exists, conn.Exec("SELECT to_regclass('meta') IS NOT NULL"));
    int64_t version = 0;
    if (exists.Text(0, 0) == "t") {
      CW_ASSIGN_OR_RETURN(PgResult row, conn.Exec("SELECT schema_version FROM meta WHERE id = 1"));
      if (row.Rows() != 1) {
        return absl::DataLossError(
            StrCat("postgres: ", conn.target().display, ": meta row is missing"));
      }
      version = row.Int(0, 0);
    }
    if (version > internal::kSchemaVersion) {
      return absl::FailedPreconditionError(
          StrCat("postgres: ", conn.target().display, ": schema version ", version,
                 " is newer than this causeway understands (", internal::kSchemaVersion, ")"));
    }
    if (version == internal::kSchemaVersion) return absl::OkStatus();
    for (int64_t v = version; v < internal::kSchemaVersion; ++v) {
      CW_RETURN_IF_ERROR(conn.ExecSimple(kMigrations[v]));
    }
    CW_RETURN_IF_ERROR(conn.Exec("UPDATE meta SET schema_version = $1 WHERE id = 1",
                                 {std::to_string(internal::kSchemaVersion)})
                           .status());
    return absl::OkStatus();
  }();
  if (status.ok()) return conn.ExecSimple("COMMIT");
  (void)conn.ExecSimple("ROLLBACK");
  return status;
}

}  // namespace causeway::store
