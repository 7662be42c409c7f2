#include "store/sqlite/sqlite_store.h"

#include <limits>

#include "common/status.h"
#include "common/strings.h"
#include "store/sqlite/sqlite_schema.h"
#include "store/store_codec.h"

namespace causeway::store {
namespace {

// Idle read connections kept open; more are opened under load and closed
// when returned to a full pool.
constexpr size_t kMaxIdleReaders = 8;

// Runs `body` inside BEGIN ... COMMIT on `db`, rolling back on any error.
template <typename Body>
absl::Status InTransaction(SqliteDb& db, const char* begin, Body body) {
  CW_RETURN_IF_ERROR(db.Exec(begin));
  absl::Status status = body();
  if (status.ok()) status = db.Exec("COMMIT");
  if (!status.ok()) db.RollbackIfOpen();
  return status;
}

absl::StatusOr<int64_t> ReadRevision(SqliteDb& db) {
  CW_ASSIGN_OR_RETURN(SqliteQuery query, db.Prepare("SELECT revision FROM meta WHERE id = 1"));
  CW_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) return absl::DataLossError(StrCat("sqlite: ", db.path(), ": meta row is missing"));
  return query.Int(0);
}

absl::StatusOr<int64_t> ReadCompacted(SqliteDb& db) {
  CW_ASSIGN_OR_RETURN(SqliteQuery query,
                      db.Prepare("SELECT compacted_through FROM meta WHERE id = 1"));
  CW_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) return absl::DataLossError(StrCat("sqlite: ", db.path(), ": meta row is missing"));
  return query.Int(0);
}

// The last revision of [after+1, limit] that is older than `cutoff_ms` with
// every revision before it: the first young entry ends the prefix.
absl::StatusOr<int64_t> OldPrefixEnd(SqliteDb& db, int64_t after, int64_t limit,
                                     int64_t cutoff_ms) {
  CW_ASSIGN_OR_RETURN(SqliteQuery q, db.Prepare("SELECT MIN(revision) FROM changelog "
                                                "WHERE revision > ?1 AND revision <= ?2 "
                                                "AND time_ms >= ?3"));
  q.Bind(1, after).Bind(2, limit).Bind(3, cutoff_ms);
  CW_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.IsNull(0)) return limit;
  return q.Int(0) - 1;
}

TokenRecord TokenFromRow(const SqliteQuery& q) {
  TokenRecord t;
  t.name = q.Text(0);
  t.role = q.Text(1);
  t.zone = q.Text(2);
  t.secret_sha256_hex = q.Text(3);
  t.created_at_ms = q.Int(4);
  t.created_by = q.Text(5);
  t.expires_at_ms = q.Int(6);
  t.last_used_at_ms = q.Int(7);
  return t;
}

constexpr const char* kTokenColumns =
    "name, role, zone, secret_sha256, created_at_ms, created_by, expires_at_ms, last_used_at_ms";

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  CW_ASSIGN_OR_RETURN(auto writer, SqliteDb::Open(path, /*read_only=*/false));
  CW_RETURN_IF_ERROR(MigrateSqlite(*writer));
  return std::unique_ptr<SqliteStore>(new SqliteStore(path, std::move(writer)));
}

SqliteStore::~SqliteStore() = default;

SqliteStore::Reader::~Reader() {
  if (db_ == nullptr) return;
  absl::MutexLock lock(&store_->pool_mu_);
  if (store_->idle_readers_.size() < kMaxIdleReaders) {
    store_->idle_readers_.push_back(std::move(db_));
  }
}

absl::StatusOr<SqliteStore::Reader> SqliteStore::AcquireReader() {
  {
    absl::MutexLock lock(&pool_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<SqliteDb> db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return Reader(this, std::move(db));
    }
  }
  CW_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path_, /*read_only=*/true));
  return Reader(this, std::move(db));
}

absl::StatusOr<Snapshot> SqliteStore::Load() {
  CW_ASSIGN_OR_RETURN(Reader db, AcquireReader());
  Snapshot snapshot;
  // One read transaction: the objects are exactly those at `revision`.
  CW_RETURN_IF_ERROR(InTransaction(*db, "BEGIN", [&]() -> absl::Status {
    CW_ASSIGN_OR_RETURN(snapshot.revision, ReadRevision(*db));
    CW_ASSIGN_OR_RETURN(SqliteQuery q,
                        db->Prepare("SELECT kind, zone, name, version, created_at_ms, "
                                    "updated_at_ms, spec FROM objects"));
    while (true) {
      CW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      model::Object& o = snapshot.objects.emplace_back();
      CW_ASSIGN_OR_RETURN(o.key.kind, internal::KindFromColumn(q.Text(0)));
      o.key.zone = q.Text(1);
      o.key.name = q.Text(2);
      o.version = q.Int(3);
      o.created_at_ms = q.Int(4);
      o.updated_at_ms = q.Int(5);
      CW_ASSIGN_OR_RETURN(o.spec, internal::SpecFromColumn(o.key, q.Text(6)));
    }
    return absl::OkStatus();
  }));
  return snapshot;
}

absl::StatusOr<int64_t> SqliteStore::Revision() {
  CW_ASSIGN_OR_RETURN(Reader db, AcquireReader());
  return ReadRevision(*db);
}

absl::StatusOr<std::vector<Change>> SqliteStore::ChangesSince(int64_t since, size_t limit,
                                                              const ChangeFilter& filter) {
  std::vector<Change> changes;
  if (limit == 0) return changes;
  // The SQL differs only in which filters are present, so at most 16 variants
  // end up in the statement cache.
  std::string sql =
      "SELECT revision, time_ms, actor, kind, zone, name, op, before, after FROM changelog "
      "WHERE revision > ?1";
  if (filter.zone) sql += " AND zone = ?2";
  if (filter.kind) sql += " AND kind = ?3";
  if (filter.name) sql += " AND name = ?4";
  if (filter.since_time_ms) sql += " AND time_ms >= ?5";
  sql += " ORDER BY revision LIMIT ?6";

  CW_ASSIGN_OR_RETURN(Reader db, AcquireReader());
  CW_ASSIGN_OR_RETURN(SqliteQuery q, db->Prepare(sql));
  q.Bind(1, since);
  if (filter.zone) q.Bind(2, *filter.zone);
  if (filter.kind) q.Bind(3, model::KindName(*filter.kind));
  if (filter.name) q.Bind(4, *filter.name);
  if (filter.since_time_ms) q.Bind(5, *filter.since_time_ms);
  q.Bind(6, static_cast<int64_t>(std::min<uint64_t>(limit, std::numeric_limits<int64_t>::max())));
  while (true) {
    CW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    Change& c = changes.emplace_back();
    c.revision = q.Int(0);
    c.time_ms = q.Int(1);
    c.actor = q.Text(2);
    CW_ASSIGN_OR_RETURN(c.key.kind, internal::KindFromColumn(q.Text(3)));
    c.key.zone = q.Text(4);
    c.key.name = q.Text(5);
    CW_ASSIGN_OR_RETURN(c.op, internal::OpFromColumn(q.Text(6)));
    if (!q.IsNull(7)) {
      CW_ASSIGN_OR_RETURN(c.before, internal::ImageFromJson(c.key, q.Text(7)));
    }
    if (!q.IsNull(8)) {
      CW_ASSIGN_OR_RETURN(c.after, internal::ImageFromJson(c.key, q.Text(8)));
    }
  }
  // Read after the changes: compaction only moves forward, so a value at or
  // below `since` now was so while they were read, and nothing is missing.
  CW_ASSIGN_OR_RETURN(int64_t compacted, ReadCompacted(*db));
  if (since < compacted) return CompactedError(since, compacted);
  return changes;
}

absl::StatusOr<int64_t> SqliteStore::CompactedRevision() {
  CW_ASSIGN_OR_RETURN(Reader db, AcquireReader());
  return ReadCompacted(*db);
}

absl::StatusOr<Compaction> SqliteStore::CompactChangelog(const Retention& retention, int64_t now_ms,
                                                         int64_t max_rows) {
  absl::MutexLock lock(&writer_mu_);
  Compaction result;
  SqliteDb& db = *writer_;
  CW_RETURN_IF_ERROR(InTransaction(db, "BEGIN IMMEDIATE", [&]() -> absl::Status {
    CW_ASSIGN_OR_RETURN(int64_t revision, ReadRevision(db));
    CW_ASSIGN_OR_RETURN(result.compacted_through, ReadCompacted(db));
    const int64_t from = result.compacted_through;
    int64_t upto = CompactionLimit(retention, revision, from, max_rows);
    if (upto > from && retention.max_age_ms > 0) {
      CW_ASSIGN_OR_RETURN(upto, OldPrefixEnd(db, from, upto, now_ms - retention.max_age_ms));
    }
    if (upto <= from) return absl::OkStatus();
    {
      CW_ASSIGN_OR_RETURN(SqliteQuery q, db.Prepare("DELETE FROM changelog WHERE revision > ?1 "
                                                    "AND revision <= ?2 RETURNING revision"));
      q.Bind(1, from).Bind(2, upto);
      while (true) {
        CW_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        ++result.removed;
      }
    }
    CW_ASSIGN_OR_RETURN(SqliteQuery q,
                        db.Prepare("UPDATE meta SET compacted_through = ?1 WHERE id = 1"));
    q.Bind(1, upto);
    CW_RETURN_IF_ERROR(q.Run());
    result.compacted_through = upto;
    return absl::OkStatus();
  }));
  return result;
}

absl::Status SqliteStore::Commit(int64_t expected_revision, const std::vector<Change>& changes) {
  CW_RETURN_IF_ERROR(internal::ValidateBatch(expected_revision, changes));
  absl::MutexLock lock(&writer_mu_);
  // IMMEDIATE takes the write lock up front, so the revision check and the
  // writes see the same state even with another process on the file.
  SqliteDb& db = *writer_;
  return InTransaction(db, "BEGIN IMMEDIATE",
                       [&] { return CommitLocked(db, expected_revision, changes); });
}

absl::Status SqliteStore::CommitLocked(SqliteDb& db, int64_t expected_revision,
                                       const std::vector<Change>& changes) {
  CW_ASSIGN_OR_RETURN(int64_t revision, ReadRevision(db));
  if (revision != expected_revision)
    return internal::StaleRevisionError(expected_revision, revision);
  if (changes.empty()) return absl::OkStatus();

  for (const Change& c : changes) {
    {
      CW_ASSIGN_OR_RETURN(SqliteQuery q,
                          db.Prepare("INSERT INTO changelog (revision, time_ms, actor, kind, "
                                     "zone, name, op, before, after) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
      q.Bind(1, c.revision).Bind(2, c.time_ms).Bind(3, c.actor);
      q.Bind(4, model::KindName(c.key.kind)).Bind(5, c.key.zone).Bind(6, c.key.name);
      q.Bind(7, OpName(c.op));
      if (c.before)
        q.Bind(8, internal::ImageToJson(*c.before));
      else
        q.BindNull(8);
      if (c.after)
        q.Bind(9, internal::ImageToJson(*c.after));
      else
        q.BindNull(9);
      CW_RETURN_IF_ERROR(q.Run());
    }
    if (c.after) {
      CW_ASSIGN_OR_RETURN(
          SqliteQuery q,
          db.Prepare("INSERT INTO objects (kind, zone, name, version, created_at_ms, "
                     "updated_at_ms, spec) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                     "ON CONFLICT (kind, zone, name) DO UPDATE SET version = excluded.version, "
                     "created_at_ms = excluded.created_at_ms, "
                     "updated_at_ms = excluded.updated_at_ms, spec = excluded.spec"));
      const model::Object& o = *c.after;
      q.Bind(1, model::KindName(c.key.kind)).Bind(2, c.key.zone).Bind(3, c.key.name);
      q.Bind(4, o.version).Bind(5, o.created_at_ms).Bind(6, o.updated_at_ms);
      q.Bind(7, o.spec.dump());
      CW_RETURN_IF_ERROR(q.Run());
    } else {
      CW_ASSIGN_OR_RETURN(
          SqliteQuery q,
          db.Prepare("DELETE FROM objects WHERE kind = ?1 AND zone = ?2 AND name = ?3"));
      q.Bind(1, model::KindName(c.key.kind)).Bind(2, c.key.zone).Bind(3, c.key.name);
      CW_RETURN_IF_ERROR(q.Run());
    }
  }
  CW_ASSIGN_OR_RETURN(SqliteQuery q, db.Prepare("UPDATE meta SET revision = ?1 WHERE id = 1"));
  q.Bind(1, changes.back().revision);
  return q.Run();
}

absl::Status SqliteStore::CreateToken(const TokenRecord& token) {
  absl::MutexLock lock(&writer_mu_);
  CW_ASSIGN_OR_RETURN(SqliteQuery q,
                      writer_->Prepare(StrCat("INSERT INTO tokens (", kTokenColumns,
                                              ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")));
  q.Bind(1, token.name).Bind(2, token.role).Bind(3, token.zone);
  q.Bind(4, token.secret_sha256_hex).Bind(5, token.created_at_ms).Bind(6, token.created_by);
  q.Bind(7, token.expires_at_ms).Bind(8, token.last_used_at_ms);
  absl::Status status = q.Run();
  if (absl::IsAlreadyExists(status)) {
    bool name_clash = writer_->ExtendedErrorCode() == SQLITE_CONSTRAINT_PRIMARYKEY;
    return absl::AlreadyExistsError(name_clash ? StrCat("token \"", token.name, "\" already exists")
                                               : "a token with this secret already exists");
  }
  return status;
}

absl::StatusOr<std::vector<TokenRecord>> SqliteStore::ListTokens() {
  CW_ASSIGN_OR_RETURN(Reader db, AcquireReader());
  CW_ASSIGN_OR_RETURN(SqliteQuery q,
                      db->Prepare(StrCat("SELECT ", kTokenColumns, " FROM tokens ORDER BY name")));
  std::vector<TokenRecord> tokens;
  while (true) {
    CW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    tokens.push_back(TokenFromRow(q));
  }
  return tokens;
}

absl::StatusOr<std::optional<TokenRecord>> SqliteStore::FindTokenBySecretHash(
    const std::string& sha256_hex) {
  CW_ASSIGN_OR_RETURN(Reader db, AcquireReader());
  CW_ASSIGN_OR_RETURN(SqliteQuery q, db->Prepare(StrCat("SELECT ", kTokenColumns,
                                                        " FROM tokens WHERE secret_sha256 = ?1")));
  q.Bind(1, sha256_hex);
  CW_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(TokenFromRow(q));
}

absl::Status SqliteStore::DeleteToken(const std::string& name) {
  absl::MutexLock lock(&writer_mu_);
  CW_ASSIGN_OR_RETURN(SqliteQuery q,
                      writer_->Prepare("DELETE FROM tokens WHERE name = ?1 RETURNING name"));
  q.Bind(1, name);
  CW_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return absl::NotFoundError(StrCat("token \"", name, "\" not found"));
  return q.Run();
}

absl::Status SqliteStore::TouchTokens(const std::vector<std::pair<std::string, int64_t>>& used) {
  if (used.empty()) return absl::OkStatus();
  absl::MutexLock lock(&writer_mu_);
  SqliteDb& db = *writer_;
  return InTransaction(db, "BEGIN IMMEDIATE", [&]() -> absl::Status {
    for (const auto& [name, time_ms] : used) {
      CW_ASSIGN_OR_RETURN(SqliteQuery q, db.Prepare("UPDATE tokens SET last_used_at_ms = ?2 "
                                                    "WHERE name = ?1 AND last_used_at_ms < ?2"));
      q.Bind(1, name).Bind(2, time_ms);
      CW_RETURN_IF_ERROR(q.Run());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> SqliteStore::KeyProofSecret(const std::string& candidate) {
  absl::MutexLock lock(&writer_mu_);
  SqliteDb& db = *writer_;
  std::string secret;
  CW_RETURN_IF_ERROR(InTransaction(db, "BEGIN IMMEDIATE", [&]() -> absl::Status {
    {
      CW_ASSIGN_OR_RETURN(SqliteQuery set, db.Prepare("UPDATE meta SET key_proof_secret = ?1 "
                                                      "WHERE id = 1 AND key_proof_secret IS NULL"));
      set.Bind(1, candidate);
      CW_RETURN_IF_ERROR(set.Run());
    }
    CW_ASSIGN_OR_RETURN(SqliteQuery get,
                        db.Prepare("SELECT key_proof_secret FROM meta WHERE id = 1"));
    CW_ASSIGN_OR_RETURN(bool row, get.Step());
    if (!row) return absl::DataLossError(StrCat("sqlite: ", db.path(), ": meta row is missing"));
    secret = std::string(get.Text(0));
    return absl::OkStatus();
  }));
  return secret;
}

}  // namespace causeway::store
