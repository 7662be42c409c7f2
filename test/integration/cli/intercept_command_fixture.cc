#include "intercept_command_fixture.h"

#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace causeway::testing {
namespace {

int ExitCodeOf(int status) { return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

std::string CreateInterceptToken(const CliHub& hub, const std::string& name,
                                 const std::string& role, const std::string& zone) {
  std::vector<std::string> args = {"token", "create", name, "--role", role};
  if (!zone.empty()) args.insert(args.end(), {"--zone", zone});
  std::string secret = hub.MustRun(args);
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == ' ')) secret.pop_back();
  return secret;
}

Json GetStagingIntercept(const CliHub& hub, const std::string& name) {
  CliResult got = hub.Run({"get", "intercept", name, "-z", "staging", "-o", "json"});
  if (got.exit_code != 0) {
    EXPECT_EQ(got.exit_code, 5) << "get intercept " << name << ": " << got.err;
    return Json();
  }
  return Json::parse(got.out, nullptr, false);
}

InterceptCommand::InterceptCommand(const CliHub& hub, const std::string& token,
                                   const std::vector<std::string>& args,
                                   const std::map<std::string, std::string>& env) {
  static int counter = 0;
  log_path_ = hub.File("intercept-" + std::to_string(counter++) + ".log");
  Subprocess::Options options;
  options.argv = {BuiltBinary("causeway"), "intercept"};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = {{"HOME", hub.home()},    {"CAUSEWAY_HUB", hub.url()}, {"CAUSEWAY_TOKEN", token},
                 {"CAUSEWAY_TUNNEL", ""}, {"CAUSEWAY_TUNNEL_CA", ""},  {"XDG_CONFIG_HOME", ""},
                 {"XDG_DATA_HOME", ""}};
  for (const auto& [k, v] : env) options.env[k] = v;
  options.log_path = log_path_;
  process_ = std::make_unique<Subprocess>(options);
}

std::string InterceptCommand::Output() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool InterceptCommand::WaitForOutput(const std::string& text) const {
  return WaitFor([&] { return Output().find(text) != std::string::npos; },
                 std::chrono::seconds(30));
}

int InterceptCommand::Signal(int signal) {
  process_->Signal(signal);
  return Wait();
}

int InterceptCommand::Wait() { return ExitCodeOf(process_->Wait(std::chrono::seconds(60))); }

}  // namespace causeway::testing
