#include "support/store/store_test_env.h"

#include <sqlite3.h>

#include <stdexcept>

namespace causeway::store::testing {

std::string BackendName(Backend backend) {
  return backend == Backend::kSqlite ? "Sqlite" : "Postgres";
}

::causeway::testing::PostgresServer& StoreEnv::Server() {
  // Started on first use, stopped at exit; one per test process.
  static auto* server = new ::causeway::testing::PostgresServer();
  static struct Stopper {
    ~Stopper() { delete server; }
  } stopper;
  return *server;
}

StoreEnv::StoreEnv(Backend backend) : backend_(backend) {
  if (backend == Backend::kSqlite) {
    spec_ = "";  // the default: <data_dir>/causeway.db
  } else {
    static int next = 0;
    database_ = "store_" + std::to_string(next++);
    spec_ = Server().CreateDatabase(database_);
  }
}

absl::StatusOr<std::unique_ptr<Store>> StoreEnv::Open() const {
  return OpenStore(spec_, dir_.File("data"));
}

void StoreEnv::FailInsertsNamed(const std::string& name) {
  if (backend_ == Backend::kPostgres) {
    Server().Exec(database_, R"sql(
CREATE FUNCTION fail_named() RETURNS trigger AS $$
BEGIN
  IF NEW.name = ')sql" + name + R"sql(' THEN RAISE EXCEPTION 'injected failure'; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER fail_named BEFORE INSERT ON changelog FOR EACH ROW EXECUTE FUNCTION fail_named();
)sql");
    return;
  }
  sqlite3* db = nullptr;
  std::string path = dir_.File("data") + "/causeway.db";
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) throw std::runtime_error("open " + path);
  std::string sql = "CREATE TRIGGER fail_named BEFORE INSERT ON changelog WHEN NEW.name = '" +
                    name + "' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;";
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("create trigger failed");
}

model::Object MakeObject(const std::string& zone, const std::string& name, int64_t version,
                         const std::string& note, model::Kind kind) {
  model::Object o;
  o.key = {kind, zone, name};
  o.version = version;
  o.created_at_ms = 1'700'000'000'000 + version;
  o.updated_at_ms = 1'700'000'000'000 + version * 10;
  o.spec = {{"note", note},
            {"instances", {{{"host", "10.0.0.1"}, {"port", 8080}, {"metadata", {{"v", "1"}}}}}}};
  return o;
}

Change Create(int64_t revision, const model::Object& after, const std::string& actor) {
  Change c;
  c.revision = revision;
  c.time_ms = 1'700'000'000'000 + revision * 1000;
  c.actor = actor;
  c.key = after.key;
  c.op = Op::kCreate;
  c.after = after;
  return c;
}

Change Update(int64_t revision, const model::Object& before, const model::Object& after) {
  Change c = Create(revision, after);
  c.op = Op::kUpdate;
  c.before = before;
  return c;
}

Change Delete(int64_t revision, const model::Object& before) {
  Change c;
  c.revision = revision;
  c.time_ms = 1'700'000'000'000 + revision * 1000;
  c.actor = "admin";
  c.key = before.key;
  c.op = Op::kDelete;
  c.before = before;
  return c;
}

}  // namespace causeway::store::testing
