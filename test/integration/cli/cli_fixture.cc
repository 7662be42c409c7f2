#include "cli_fixture.h"

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "net/http_client.h"

namespace causeway::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

CliHub::CliHub() : port_(FreePort()), xds_port_(FreePort()) {
  std::string data_dir = home_.path() + "/.local/share/causeway";
  std::filesystem::create_directories(data_dir);
  Subprocess::Options options;
  options.argv = {BuiltBinary("causeway"),
                  "serve",
                  "--api",
                  "127.0.0.1:" + std::to_string(port_),
                  "--xds",
                  "127.0.0.1:" + std::to_string(xds_port_),
                  "--data-dir",
                  data_dir};
  options.env = {{"HOME", home_.path()}};
  options.log_path = home_.File("hub.log");
  process_ = std::make_unique<Subprocess>(options);
  bool ready = WaitFor(
      [&] {
        if (!process_->Running()) return true;
        auto client = HttpClient::Create(url(), HttpClient::Options{std::chrono::seconds(2)});
        if (!client.ok()) return false;
        auto res = (*client)->Send("GET", "/readyz");
        return res.ok() && res->status == 200 && std::filesystem::exists(data_dir + "/admin.token");
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(ready && process_->Running()) << "the hub did not become ready:\n" << Log();
}

CliHub::~CliHub() {
  if (process_ && process_->Running()) process_->Stop();
}

void CliHub::Stop() {
  if (process_ && process_->Running()) process_->Stop();
}

std::string CliHub::Log() const { return process_ ? process_->Log() : ""; }

std::string CliHub::WriteFile(const std::string& name, const std::string& text) const {
  std::string path = home_.File(name);
  std::ofstream(path) << text;
  return path;
}

CliResult CliHub::Run(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env,
                      const std::string& stdin_text) const {
  static int counter = 0;
  std::string base = home_.File("run-" + std::to_string(counter++));
  std::string in_path = base + ".in";
  std::ofstream(in_path) << stdin_text;
  Subprocess::Options options;
  // The shell only wires the files; the program and its arguments pass
  // through "$@" untouched.
  options.argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" <\"$CW_IN\" >\"$CW_OUT\" 2>\"$CW_ERR\"",
                  BuiltBinary("causeway")};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = {{"HOME", home_.path()},
                 {"CAUSEWAY_HUB", url()},
                 {"CW_IN", in_path},
                 {"CW_OUT", base + ".out"},
                 {"CW_ERR", base + ".err"},
                 {"CAUSEWAY_TOKEN", ""},
                 {"XDG_CONFIG_HOME", ""},
                 {"XDG_DATA_HOME", ""},
                 // `edit` keeps a failed edit's file, as kubectl does: in this
                 // run's home, removed with it, not in the machine's /tmp.
                 {"TMPDIR", home_.path()}};
  for (const auto& [k, v] : env) options.env[k] = v;
  Subprocess process(options);
  int status = process.Wait(std::chrono::seconds(60));
  CliResult result;
  result.exit_code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadAll(base + ".out");
  result.err = ReadAll(base + ".err");
  return result;
}

std::string CliHub::MustRun(const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env) const {
  CliResult r = Run(args, env);
  std::string cmd;
  for (const auto& a : args) cmd += " " + a;
  EXPECT_EQ(r.exit_code, 0) << "causeway" << cmd << "\nstdout:\n"
                            << r.out << "\nstderr:\n"
                            << r.err;
  return r.out;
}

std::map<std::string, Json> CliHub::ZoneObjects(const std::string& zone) const {
  std::map<std::string, Json> objects;
  Json z = Json::parse(MustRun({"get", "zone", zone, "-o", "json"}), nullptr, false);
  for (const char* kind : {"zones", "proxies", "domains", "route-groups", "routes", "clusters"}) {
    Json list = std::string(kind) == "zones"
                    ? Json::array({z})
                    : Json::parse(MustRun({"get", kind, "-z", zone, "-o", "json"}), nullptr, false);
    EXPECT_TRUE(list.is_array()) << kind;
    if (!list.is_array()) continue;
    for (Json o : list) {
      o.erase("version");
      o.erase("created_at");
      o.erase("updated_at");
      objects[o.value("kind", "") + "/" + o.value("name", "")] = o;
    }
  }
  return objects;
}

}  // namespace causeway::testing
