#include "proxy/app/admin.h"

#include <cstdio>

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

}  // namespace

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

AdminServer::AdminServer(std::string address, AdminSources sources) : sources_(std::move(sources)) {
  http::Router router;
  auto json = [](const nlohmann::json& j) { return Response::Json(200, j.dump(2) + "\n"); };
  router.Add({"GET", "/ready", [this](Request&) {
                bool ready = sources_.ready();
                return Response::Text(ready ? 200 : 503,
                                      ready ? "LIVE\n" : "NOT READY: no configuration yet\n");
              }});
  router.Add(
      {"GET", "/server_info", [this, json](Request&) { return json(sources_.server_info()); }});
  router.Add(
      {"GET", "/config_dump", [this, json](Request&) { return json(sources_.config_dump()); }});
  router.Add({"GET", "/clusters",
              [this, json](Request& req) { return json(sources_.clusters(req.Query("name"))); }});
  router.Add({"GET", "/stats", [this](Request& req) {
                if (req.Query("format") == "json") {
                  return Response::Json(200, nlohmann::json(sources_.stats()).dump(2) + "\n");
                }
                std::string out;
                for (const auto& [name, value] : sources_.stats())
                  out += StrCat(name, ": ", FormatNumber(value), "\n");
                return Response::Text(200, out);
              }});
  router.Add({"GET", "/stats/prometheus", [this](Request&) {
                return Response::Text(200, PrometheusText(sources_.stats()),
                                      "text/plain; version=0.0.4");
              }});
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
