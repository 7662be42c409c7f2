// A throwaway PostgreSQL server for tests, from Debian's packages
// (/usr/lib/postgresql/15/bin). Listens on 127.0.0.1 only, on a port chosen at
// run time, with its data in a temporary directory. Tuned for speed, not
// durability (fsync off): tests kill clients, not this server.
//
// When the test runs as root the server runs as user `postgres` (PostgreSQL
// refuses to run as root). The cluster is initdb'ed once per machine into a
// template directory and copied for each server, which takes a fraction of
// initdb's time.
#pragma once

#include <memory>
#include <string>

#include "support/process.h"

namespace causeway::testing {

class PostgresServer {
 public:
  // Starts the server and waits until it accepts connections. Throws
  // std::runtime_error (with the server log) on failure.
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }

  // Creates a fresh, empty database (named `name`, or test_N when empty) and
  // returns its URL: postgresql://postgres@127.0.0.1:PORT/NAME.
  std::string CreateDatabase(std::string name = "");
  std::string Url(const std::string& database) const;

  // Runs `sql` (one or more statements) in `database`; throws on error.
  void Exec(const std::string& database, const std::string& sql);

  // Fast shutdown (clients are disconnected) and start again on the same port
  // and data: for tests of reconnecting clients.
  void Restart();
  void Stop();
  bool running() const { return process_ != nullptr; }

 private:
  void Start();

  TempDir dir_;
  std::string user_;  // the OS user the server runs as ("" = ourselves)
  std::string data_dir_;
  int port_ = 0;
  int next_database_ = 0;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace causeway::testing
