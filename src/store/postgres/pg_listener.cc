#include "store/postgres/pg_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "spdlog/spdlog.h"

namespace causeway::store {
namespace {

// Without traffic a half-open TCP connection (server host gone) is noticed
// only by keepalives, which take hours by default; a cheap query does it.
constexpr int kIdleProbeMs = 30'000;
constexpr int kMinBackoffMs = 100;
constexpr int kMaxBackoffMs = 5'000;

}  // namespace

PgListener::PgListener(PgTarget target, std::string channel, std::string own_prefix,
                       std::function<void()> callback)
    : target_(std::move(target)),
      channel_(std::move(channel)),
      own_prefix_(std::move(own_prefix)),
      callback_(std::move(callback)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { Run(); });
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&first_attempt_done_));
}

PgListener::~PgListener() {
  stopping_ = true;
  uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof(one)) < 0) {
    // The fd is ours and non-blocking; only a full counter fails, and then the
    // thread is already woken.
  }
  thread_.join();
  ::close(wake_fd_);
}

bool PgListener::WaitStop(int ms) {
  pollfd fd{wake_fd_, POLLIN, 0};
  ::poll(&fd, 1, ms);
  return stopping_;
}

PGconn* PgListener::Connect() {
  absl::StatusOr<PGconn*> conn = PgConnectRaw(target_);
  if (!conn.ok()) {
    spdlog::warn("store: change listener: {}", std::string(conn.status().message()));
    return nullptr;
  }
  char* quoted = PQescapeIdentifier(*conn, channel_.data(), channel_.size());
  std::string sql = std::string("LISTEN ") + (quoted != nullptr ? quoted : channel_);
  PQfreemem(quoted);
  PGresult* result = PQexec(*conn, sql.c_str());
  bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  PQclear(result);
  if (!ok) {
    spdlog::warn("store: change listener: postgres: {}: LISTEN failed: {}", target_.display,
                 PQerrorMessage(*conn));
    PQfinish(*conn);
    return nullptr;
  }
  PQsetnonblocking(*conn, 1);
  return *conn;
}

void PgListener::Run() {
  bool first = true;
  int backoff_ms = kMinBackoffMs;
  while (!stopping_) {
    PGconn* conn = Connect();
    if (first) {
      absl::MutexLock lock(&mu_);
      first_attempt_done_ = true;
    }
    if (conn == nullptr) {
      first = false;
      if (WaitStop(backoff_ms)) break;
      backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
      continue;
    }
    if (!first) {
      spdlog::info("store: change listener reconnected to {}", target_.display);
      callback_();  // whatever happened while we were away
    }
    first = false;
    backoff_ms = kMinBackoffMs;
    Serve(conn);
    PQfinish(conn);
  }
}

void PgListener::Serve(PGconn* conn) {
  while (!stopping_) {
    pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int n = ::poll(fds, 2, kIdleProbeMs);
    if (stopping_) return;
    if (n == 0) {
      // Idle: probe the connection. Blocking mode for the probe only.
      PQsetnonblocking(conn, 0);
      PGresult* result = PQexec(conn, "SELECT 1");
      bool ok = PQresultStatus(result) == PGRES_TUPLES_OK;
      PQclear(result);
      PQsetnonblocking(conn, 1);
      if (!ok) {
        spdlog::warn("store: change listener: postgres: {}: connection lost: {}", target_.display,
                     PQerrorMessage(conn));
        return;
      }
    } else if (n < 0 || (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
      continue;
    } else if (PQconsumeInput(conn) == 0 || PQstatus(conn) == CONNECTION_BAD) {
      spdlog::warn("store: change listener: postgres: {}: connection lost: {}", target_.display,
                   PQerrorMessage(conn));
      return;
    }
    bool external = false;
    while (PGnotify* notify = PQnotifies(conn)) {
      std::string_view payload = notify->extra != nullptr ? notify->extra : "";
      if (payload.substr(0, own_prefix_.size()) != own_prefix_) external = true;
      PQfreemem(notify);
    }
    // One callback per wake-up: a burst of commits needs one catch-up.
    if (external) callback_();
  }
}

}  // namespace causeway::store
