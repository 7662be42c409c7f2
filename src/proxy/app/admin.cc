#include "proxy/app/admin.h"

#include <cstdio>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "common/strings.h"

namespace causeway::proxy {

using http::Request;
using http::Response;

namespace {

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string Sanitize(const std::string& name) {
  std::string out;
  for (char c : name) out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return out;
}

// "Host[:port]" split; IPv6 literals keep their brackets. False when the
// port is not a number.
bool SplitHost(std::string_view text, std::string* host, std::optional<int>* port) {
  size_t colon = text.rfind(':');
  size_t bracket = text.rfind(']');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket)) {
    *host = absl::AsciiStrToLower(ToAbsl(text));
    port->reset();
    return true;
  }
  int p = 0;
  if (!absl::SimpleAtoi(ToAbsl(text.substr(colon + 1)), &p) || p < 0 || p > 65535) return false;
  *host = absl::AsciiStrToLower(ToAbsl(text.substr(0, colon)));
  *port = p;
  return true;
}

}  // namespace

bool AdminHostAllowed(std::string_view host, std::string_view bound, int port,
                      std::string_view local) {
  std::string name;
  std::optional<int> host_port;
  if (host.empty() || !SplitHost(host, &name, &host_port)) return false;
  if (host_port && *host_port != port) return false;
  if (name == "localhost" || name == "127.0.0.1" || name == "[::1]") return true;
  for (std::string_view own : {bound, local}) {
    std::string own_name;
    std::optional<int> own_port;
    if (!own.empty() && SplitHost(own, &own_name, &own_port) && own_name == name) return true;
  }
  return false;
}

std::string PrometheusText(const std::map<std::string, double>& stats) {
  std::string out;
  for (const auto& [name, value] : stats) {
    std::string metric = "causeway_proxy_" + Sanitize(name);
    // Prometheus' naming: a "_total" is a counter (only ever goes up).
    out += StrCat("# TYPE ", metric, metric.ends_with("_total") ? " counter\n" : " gauge\n", metric,
                  " ", FormatNumber(value), "\n");
  }
  return out;
}

http::Handler AdminServer::Guarded(http::Handler handler) {
  return [this, handler = std::move(handler)](Request& req) -> Response {
    std::string host = req.Header("host");
    if (!AdminHostAllowed(host, address_, port(), req.local)) {
      return Response::Json(
          403, nlohmann::json{{"error",
                               {{"code", "forbidden_host"},
                                {"message", StrCat("Host \"", host,
                                                   "\" is not this admin server's address; use ",
                                                   "localhost:", port(), " or ", address_)}}}}
                   .dump());
    }
    return handler(req);
  };
}

AdminServer::AdminServer(std::string address, AdminSources sources)
    : sources_(std::move(sources)), address_(address) {
  http::Router router;
  auto json = [](const nlohmann::json& j) { return Response::Json(200, j.dump(2) + "\n"); };
  // Every route goes through Guarded (the Host check).
  struct Guard {
    AdminServer* self;
    http::Router* router;
    void Add(http::Route route) {
      route.handler = self->Guarded(std::move(route.handler));
      router->Add(std::move(route));
    }
  } guarded{this, &router};
  guarded.Add({"GET", "/ready", [this](Request&) {
                 bool ready = sources_.ready();
                 return Response::Text(ready ? 200 : 503,
                                       ready ? "LIVE\n" : "NOT READY: no configuration yet\n");
               }});
  guarded.Add(
      {"GET", "/server_info", [this, json](Request&) { return json(sources_.server_info()); }});
  guarded.Add(
      {"GET", "/config_dump", [this, json](Request&) { return json(sources_.config_dump()); }});
  guarded.Add({"GET", "/clusters",
               [this, json](Request& req) { return json(sources_.clusters(req.Query("name"))); }});
  guarded.Add({"GET", "/stats", [this](Request& req) {
                 if (req.Query("format") == "json") {
                   return Response::Json(200, nlohmann::json(sources_.stats()).dump(2) + "\n");
                 }
                 std::string out;
                 for (const auto& [name, value] : sources_.stats())
                   out += StrCat(name, ": ", FormatNumber(value), "\n");
                 return Response::Text(200, out);
               }});
  guarded.Add({"GET", "/stats/prometheus", [this](Request&) {
                 return Response::Text(200, PrometheusText(sources_.stats()),
                                       "text/plain; version=0.0.4");
               }});
  if (sources_.routing_keys) {
    guarded.Add(
        {"GET", "/routing_keys", [this, json](Request&) { return json(sources_.routing_keys()); }});
  }
  http::HttpServer::Options options;
  options.address = std::move(address);
  options.io_threads = 1;
  options.worker_threads = 2;
  server_ = std::make_unique<http::HttpServer>(
      options, std::move(router),
      [](int status, std::string_view code, std::string_view message) {
        return Response::Json(
            status, nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump());
      },
      [](const Request&, int, std::string_view, std::chrono::steady_clock::duration) {});
}

absl::Status AdminServer::Start() { return server_->Start(); }
int AdminServer::port() const { return server_->port(); }
void AdminServer::Shutdown() { server_->Shutdown(); }

}  // namespace causeway::proxy
