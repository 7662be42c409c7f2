#include "cli/config.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "common/status.h"
#include "common/strings.h"
#include "yaml-cpp/yaml.h"

namespace causeway::cli {
namespace {

std::string Home(const Getenv& env) {
  if (auto home = env("HOME"); home && !home->empty()) return *home;
  if (passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr)
    return pw->pw_dir;
  return ".";
}

std::string Trim(std::string s) { return std::string(absl::StripAsciiWhitespace(s)); }

std::optional<std::string> NonEmpty(const Getenv& env, std::string_view name) {
  auto value = env(name);
  if (value && !value->empty()) return value;
  return std::nullopt;
}

}  // namespace

const Context* ConfigFile::Find(std::string_view name) const {
  for (const Context& c : contexts) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void ConfigFile::Put(Context context) {
  for (Context& c : contexts) {
    if (c.name == context.name) {
      c = std::move(context);
      return;
    }
  }
  contexts.push_back(std::move(context));
}

Getenv ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::string ConfigPath(const Getenv& env) {
  if (auto path = NonEmpty(env, "CAUSEWAY_CONFIG")) return *path;
  if (auto xdg = NonEmpty(env, "XDG_CONFIG_HOME")) return *xdg + "/causeway/config.yaml";
  return Home(env) + "/.config/causeway/config.yaml";
}

std::string DefaultAdminTokenPath(const Getenv& env) {
  // Where `causeway serve` puts it by default (it honours XDG_DATA_HOME too).
  if (auto xdg = NonEmpty(env, "XDG_DATA_HOME")) return *xdg + "/causeway/admin.token";
  return Home(env) + "/.local/share/causeway/admin.token";
}

absl::StatusOr<ConfigFile> LoadConfig(const std::string& path) {
  ConfigFile config;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return config;
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (root.IsNull()) return config;
    if (!root.IsMap()) return absl::InvalidArgumentError(StrCat(path, ": expected a mapping"));
    if (root["current-context"]) config.current = root["current-context"].as<std::string>();
    if (YAML::Node contexts = root["contexts"]) {
      if (!contexts.IsSequence()) {
        return absl::InvalidArgumentError(StrCat(path, ": contexts must be a list"));
      }
      for (const YAML::Node& node : contexts) {
        Context c;
        c.name = node["name"].as<std::string>("");
        c.hub = node["hub"].as<std::string>("");
        c.token = node["token"].as<std::string>("");
        c.zone = node["zone"].as<std::string>("");
        c.ca = node["ca"].as<std::string>("");
        if (c.name.empty())
          return absl::InvalidArgumentError(StrCat(path, ": a context has no name"));
        config.contexts.push_back(std::move(c));
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat(path, ":", e.mark.line + 1, ": ", e.msg));
  }
  return config;
}

absl::Status SaveConfig(const std::string& path, const ConfigFile& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "current-context" << YAML::Value << config.current;
  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq;
  for (const Context& c : config.contexts) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << c.name;
    out << YAML::Key << "hub" << YAML::Value << c.hub;
    out << YAML::Key << "token" << YAML::Value << YAML::DoubleQuoted << c.token;
    if (!c.zone.empty()) out << YAML::Key << "zone" << YAML::Value << c.zone;
    if (!c.ca.empty()) out << YAML::Key << "ca" << YAML::Value << c.ca;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  std::string text = StrCat(out.c_str(), "\n");

  std::filesystem::path file(path);
  std::error_code ec;
  if (file.has_parent_path()) {
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec)
      return absl::PermissionDeniedError(StrCat(file.parent_path().string(), ": ", ec.message()));
  }
  // Created 0600 from the start, so the tokens are never readable by others,
  // not even between open() and chmod().
  std::string tmp = StrCat(path, ".tmp.", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return absl::PermissionDeniedError(StrCat(tmp, ": ", std::strerror(errno)));
  ::fchmod(fd, 0600);
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string error = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::InternalError(StrCat(tmp, ": ", error));
    }
    written += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string error = std::strerror(errno);
    ::unlink(tmp.c_str());
    return absl::InternalError(StrCat(path, ": ", error));
  }
  return absl::OkStatus();
}

std::string NormalizeHub(std::string_view hub) {
  std::string out(absl::StripAsciiWhitespace(ToAbsl(hub)));
  if (out.find("://") == std::string::npos) out = "http://" + out;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

bool IsLoopbackHub(std::string_view hub) {
  std::string url = NormalizeHub(hub);
  std::string_view rest(url);
  rest.remove_prefix(rest.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  std::string_view host;
  if (!rest.empty() && rest.front() == '[') {
    host = rest.substr(1, rest.find(']') - 1);
  } else {
    host = rest.substr(0, rest.rfind(':'));
  }
  const bool ipv4 = std::all_of(host.begin(), host.end(), [](char c) {
    return c == '.' || absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
  return host == "localhost" || host == "::1" || (ipv4 && host.starts_with("127."));
}

absl::StatusOr<Connection> ResolveConnection(const ConnectionFlags& flags, const Getenv& env) {
  Connection conn;
  const std::string config_path = ConfigPath(env);
  CW_ASSIGN_OR_RETURN(ConfigFile config, LoadConfig(config_path));

  const Context* context = nullptr;
  if (!flags.context.empty()) {
    context = config.Find(flags.context);
    if (context == nullptr) {
      return absl::NotFoundError(StrCat("no context \"", flags.context, "\" in ", config_path,
                                        " (see causeway context list)"));
    }
  } else if (!config.current.empty()) {
    context = config.Find(config.current);
  }

  if (!flags.hub.empty()) {
    conn.hub = NormalizeHub(flags.hub);
    conn.hub_source = "--hub";
  } else if (auto hub = NonEmpty(env, "CAUSEWAY_HUB")) {
    conn.hub = NormalizeHub(*hub);
    conn.hub_source = "CAUSEWAY_HUB";
  } else if (context != nullptr && !context->hub.empty()) {
    conn.hub = NormalizeHub(context->hub);
    conn.hub_source = StrCat("context ", context->name);
  } else {
    conn.hub = std::string(kDefaultHub);
    conn.hub_source = "default";
  }

  const bool context_hub = context != nullptr && NormalizeHub(context->hub) == conn.hub;
  if (context_hub) conn.zone = context->zone;

  if (!flags.ca.empty()) {
    conn.ca = flags.ca;
    conn.ca_source = "--ca";
  } else if (auto ca = NonEmpty(env, "CAUSEWAY_CA")) {
    conn.ca = *ca;
    conn.ca_source = "CAUSEWAY_CA";
  } else if (context_hub && !context->ca.empty()) {
    conn.ca = context->ca;
    conn.ca_source = StrCat("context ", context->name);
  }

  if (!flags.token.empty()) {
    conn.token = flags.token;
    conn.token_source = "--token";
  } else if (auto token = NonEmpty(env, "CAUSEWAY_TOKEN")) {
    conn.token = *token;
    conn.token_source = "CAUSEWAY_TOKEN";
  } else if (context_hub && !context->token.empty()) {
    conn.token = context->token;
    conn.token_source = StrCat("context ", context->name);
  } else if (IsLoopbackHub(conn.hub)) {
    // A hub on this machine started with default flags leaves its admin
    // token here; never offer it to a remote hub.
    std::ifstream in(DefaultAdminTokenPath(env));
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      conn.token = Trim(ss.str());
      if (!conn.token.empty()) conn.token_source = DefaultAdminTokenPath(env);
    }
  }
  return conn;
}

}  // namespace causeway::cli
