// PostgresStore: the backend for several hub replicas on one database.
//
// Writers serialize on the single meta row (SELECT ... FOR UPDATE), so the
// expected-revision check and the writes are atomic across replicas. Every
// commit sends NOTIFY causeway_changes; SetExternalChangeCallback LISTENs on
// a dedicated connection. Other calls borrow connections from a small pool;
// a connection found broken is replaced, and operations that had not started
// yet are retried once on a fresh one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_listener.h"
#include "store/store.h"

namespace causeway::store {

class PostgresStore final : public Store {
 public:
  // The channel commits are announced on.
  static constexpr const char* kChannel = "causeway_changes";

  // Connects to `url` (postgresql://...) and migrates the schema.
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(const std::string& url);
  ~PostgresStore() override;

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

  // Starts (or, with an empty callback, stops) the LISTEN thread. Returns once
  // it listens, so any commit by another writer after this returns is
  // reported. The callback runs on the listener thread and must not call
  // SetExternalChangeCallback itself.
  void SetExternalChangeCallback(std::function<void()> callback) override;

 private:
  // A connection borrowed from the pool; returned on destruction when it is
  // still usable.
  class Lease {
   public:
    Lease(PostgresStore* store, std::unique_ptr<PgConn> conn)
        : store_(store), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease();
    PgConn* operator->() { return conn_.get(); }
    PgConn& operator*() { return *conn_; }
    // Swaps in a fresh connection (after finding this one broken).
    absl::Status Reconnect();

   private:
    PostgresStore* store_;
    std::unique_ptr<PgConn> conn_;
  };

  PostgresStore(PgTarget target, std::unique_ptr<PgConn> first);

  absl::StatusOr<Lease> Acquire();
  // Runs the first statement of an operation; a connection that broke while
  // idle in the pool is replaced and the statement retried once (nothing of
  // the operation has happened yet, so this is safe even for writes).
  absl::StatusOr<PgResult> ExecFirst(Lease& conn, const std::string& sql,
                                     const PgParams& params = {});
  absl::Status CommitInTransaction(Lease& conn, int64_t expected_revision,
                                   const std::vector<Change>& changes);

  const PgTarget target_;
  // Tags our own NOTIFY payloads so the listener can skip them.
  const std::string instance_id_;

  absl::Mutex pool_mu_;
  std::vector<std::unique_ptr<PgConn>> idle_ ABSL_GUARDED_BY(pool_mu_);

  absl::Mutex listener_mu_;
  std::unique_ptr<PgListener> listener_ ABSL_GUARDED_BY(listener_mu_);
};

}  // namespace causeway::store
