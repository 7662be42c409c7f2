// The PostgreSQL schema and its migrations, tracked in meta.schema_version.
#pragma once

#include "absl/status/status.h"
#include "store/postgres/pg_conn.h"

namespace causeway::store {

// Brings the database to internal::kSchemaVersion in one transaction, under
// an advisory lock so replicas starting together do not race. A database
// from a newer causeway is refused rather than misread.
absl::Status MigratePostgres(PgConn& conn);

}  // namespace causeway::store
