#include "support/postgres_server.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace causeway::testing {
namespace {

const std::string kBin = "/usr/lib/postgresql/15/bin/";

void Chown(const std::string& path, const std::string& user) {
  if (user.empty()) return;
  passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) throw std::runtime_error("PostgresServer: no such user: " + user);
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("PostgresServer: chown " + path + " failed");
  }
}

// Runs a helper program to completion; throws with its output on failure.
void RunTool(std::vector<std::string> argv, const std::string& user, const std::string& log) {
  Subprocess tool({.argv = argv, .env = {{"LC_ALL", "C"}}, .log_path = log, .run_as_user = user});
  int status = tool.Wait(std::chrono::seconds(120));
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("PostgresServer: " + argv[0] + " failed:\n" + tool.Log());
  }
}

// The initdb'ed cluster every server starts from, created on first use. It is
// built in a private directory and renamed into place, so concurrent test
// processes never see a half-made template.
std::string TemplateDir(const std::string& user) {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = std::string(tmp != nullptr ? tmp : "/tmp");
  std::string path =
      base + "/causeway-pg15-template-" + (user.empty() ? std::to_string(::getuid()) : user);
  if (std::filesystem::exists(path + "/data/PG_VERSION")) return path;

  std::string staging = path + ".XXXXXX";
  if (::mkdtemp(staging.data()) == nullptr)
    throw std::runtime_error("PostgresServer: mkdtemp failed");
  Chown(staging, user);
  RunTool({kBin + "initdb", "-D", staging + "/data", "-A", "trust", "-U", "postgres", "--no-sync",
           "-E", "UTF8", "--no-locale"},
          user, staging + ".log");
  std::filesystem::remove(staging + ".log");
  if (::rename(staging.c_str(), path.c_str()) != 0) {
    // Another process won the race; use its template.
    std::error_code ec;
    std::filesystem::remove_all(staging, ec);
  }
  return path;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

PostgresServer::PostgresServer() {
  if (::access((kBin + "postgres").c_str(), X_OK) != 0) {
    throw std::runtime_error("PostgresServer: " + kBin +
                             "postgres not found; install postgresql-15 (scripts/bootstrap)");
  }
  user_ = ::geteuid() == 0 ? "postgres" : "";
  std::string tmpl = TemplateDir(user_);
  // A directory the server user owns, so the data dir can be 0700 as
  // PostgreSQL demands.
  std::string home = dir_.File("pg");
  ::mkdir(home.c_str(), 0755);
  Chown(home, user_);
  data_dir_ = home + "/data";
  RunTool({"/bin/cp", "-a", tmpl + "/data", data_dir_}, "", dir_.File("cp.log"));
  Start();
}

PostgresServer::~PostgresServer() { Stop(); }

void PostgresServer::Start() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (port_ == 0 || attempt > 0) port_ = FreePort();
    process_ = std::make_unique<Subprocess>(Subprocess::Options{
        .argv = {kBin + "postgres", "-D", data_dir_, "-p", std::to_string(port_), "-c",
                 "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off",
                 "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
                 "shared_buffers=32MB", "-c", "max_connections=100"},
        .env = {{"LC_ALL", "C"}},
        .log_path = dir_.File("postgres.log"),
        .run_as_user = user_});
    std::string ping = "host=127.0.0.1 port=" + std::to_string(port_) +
                       " user=postgres dbname=postgres connect_timeout=2";
    bool up = WaitFor([&] { return !process_->Running() || PQping(ping.c_str()) == PQPING_OK; },
                      std::chrono::seconds(30));
    if (up && process_->Running()) return;
    process_.reset();  // exited (port taken?) or too slow: try again elsewhere
  }
  std::ifstream log(dir_.File("postgres.log"));
  std::stringstream text;
  text << log.rdbuf();
  throw std::runtime_error("PostgresServer: server did not start:\n" + text.str());
}

void PostgresServer::Stop() {
  if (process_ == nullptr) return;
  // SIGINT is the fast shutdown: it disconnects clients instead of waiting
  // for them (SIGTERM would wait for every test connection to close).
  process_->Signal(SIGINT);
  if (process_->Wait(std::chrono::seconds(20)) == -1) process_->Signal(SIGKILL);
  process_.reset();
}

void PostgresServer::Restart() {
  Stop();
  Start();
}

std::string PostgresServer::Url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

void PostgresServer::Exec(const std::string& database, const std::string& sql) {
  PGconn* conn = PQconnectdb(Url(database).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string error = Trim(PQerrorMessage(conn));
    PQfinish(conn);
    throw std::runtime_error("PostgresServer: connect to " + database + ": " + error);
  }
  PGresult* result = PQexec(conn, sql.c_str());
  ExecStatusType status = PQresultStatus(result);
  std::string error = Trim(PQerrorMessage(conn));
  PQclear(result);
  PQfinish(conn);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("PostgresServer: " + sql + ": " + error);
  }
}

std::string PostgresServer::CreateDatabase(std::string name) {
  if (name.empty()) name = "test_" + std::to_string(next_database_++);
  Exec("postgres", "CREATE DATABASE \"" + name + "\"");
  return Url(name);
}

}  // namespace causeway::testing
