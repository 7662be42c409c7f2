// PgListener: a thread holding a LISTEN connection, so a hub replica learns
// of commits made by other replicas on the same database.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "store/postgres/pg_conn.h"

namespace causeway::store {

class PgListener {
 public:
  // Listens on `channel`; calls `callback` (on the listener thread) for
  // notifications whose payload does not start with `own_prefix` (our own
  // commits), and once after every reconnect, since notifications sent while
  // disconnected are lost. Returns once the first LISTEN is in place (or the
  // first attempt failed), so commits made after construction are seen.
  PgListener(PgTarget target, std::string channel, std::string own_prefix,
             std::function<void()> callback);
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

 private:
  void Run();
  // Connects and LISTENs; nullptr (after logging) on failure.
  PGconn* Connect();
  // Serves notifications until the connection breaks or Stop.
  void Serve(PGconn* conn);
  // Sleeps up to `ms`, returning early (true) when stopping.
  bool WaitStop(int ms);

  const PgTarget target_;
  const std::string channel_;
  const std::string own_prefix_;
  const std::function<void()> callback_;

  int wake_fd_ = -1;  // eventfd: written to stop the thread
  std::atomic<bool> stopping_{false};

  absl::Mutex mu_;
  bool first_attempt_done_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;
};

}  // namespace causeway::store
