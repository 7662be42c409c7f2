// SqliteStore: the embedded default backend, one database file.
//
// Concurrency: one write connection behind a mutex (SQLite has one writer at a
// time anyway) and a pool of read connections. In WAL mode readers see the
// last committed state and never wait for the writer, so Load/ChangesSince and
// token lookups run concurrently with Commit.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace causeway::store {

class SqliteStore final : public Store {
 public:
  // Opens or creates the database at `path` and migrates its schema.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  ~SqliteStore() override;

  absl::StatusOr<Snapshot> Load() override;
  absl::StatusOr<int64_t> Revision() override;
  absl::StatusOr<std::vector<Change>> ChangesSince(int64_t since, size_t limit,
                                                   const ChangeFilter& filter) override;
  absl::Status Commit(int64_t expected_revision, const std::vector<Change>& changes) override;
  absl::StatusOr<int64_t> CompactedRevision() override;
  absl::StatusOr<Compaction> CompactChangelog(const Retention& retention, int64_t now_ms,
                                              int64_t max_rows) override;

  absl::Status CreateToken(const TokenRecord& token) override;
  absl::StatusOr<std::vector<TokenRecord>> ListTokens() override;
  absl::StatusOr<std::optional<TokenRecord>> FindTokenBySecretHash(
      const std::string& sha256_hex) override;
  absl::Status DeleteToken(const std::string& name) override;
  absl::Status TouchTokens(const std::vector<std::pair<std::string, int64_t>>& used) override;
  absl::StatusOr<std::string> KeyProofSecret(const std::string& candidate) override;

 private:
  // A read connection borrowed from the pool, returned on destruction.
  class Reader {
   public:
    Reader(SqliteStore* store, std::unique_ptr<SqliteDb> db) : store_(store), db_(std::move(db)) {}
    Reader(Reader&&) = default;
    ~Reader();
    SqliteDb& operator*() { return *db_; }
    SqliteDb* operator->() { return db_.get(); }

   private:
    SqliteStore* store_;
    std::unique_ptr<SqliteDb> db_;
  };

  SqliteStore(std::string path, std::unique_ptr<SqliteDb> writer)
      : path_(std::move(path)), writer_(std::move(writer)) {}

  absl::StatusOr<Reader> AcquireReader();
  // Writes `changes` through `db`, the writer, inside a transaction (writer_mu_
  // held by the caller).
  absl::Status CommitLocked(SqliteDb& db, int64_t expected_revision,
                            const std::vector<Change>& changes);

  const std::string path_;

  absl::Mutex writer_mu_;
  const std::unique_ptr<SqliteDb> writer_ ABSL_PT_GUARDED_BY(writer_mu_);

  absl::Mutex pool_mu_;
  std::vector<std::unique_ptr<SqliteDb>> idle_readers_ ABSL_GUARDED_BY(pool_mu_);
};

}  // namespace causeway::store
