// Runs the real `causeway serve` on free ports with a temporary data
// directory, and talks to it over HTTP.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "nlohmann/json.hpp"
#include "support/process.h"

namespace causeway::testing {

using Json = nlohmann::json;

// A hub process. Restarting keeps the data directory and the port, so
// clients and watches can reconnect to the same address.
class HubProcess {
 public:
  HubProcess();
  ~HubProcess();

  // Starts the hub (with `extra` arguments after the defaults) and waits
  // until /readyz answers 200.
  void Start(const std::vector<std::string>& extra = {});
  // Starts the hub without waiting, for starts that are expected to fail.
  void Launch(const std::vector<std::string>& extra = {});
  // Waits for the process to exit: its wait status, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  // SIGTERM and wait for a clean exit; returns the exit status.
  int Stop();
  // SIGKILL, no chance to clean up.
  void Kill();

  int port() const { return port_; }
  int xds_port() const { return xds_port_; }
  std::string url() const {
    return (ca_file_.empty() ? "http://127.0.0.1:" : "https://127.0.0.1:") + std::to_string(port_);
  }
  // For a hub started with --tls-cert/--tls-key (in Start's `extra`): url()
  // and the readiness probe speak https, trusting the CA in `ca_file`.
  void UseTls(std::string ca_file) { ca_file_ = std::move(ca_file); }
  const std::string& ca_file() const { return ca_file_; }
  const std::string& data_dir() const { return dir_.path(); }
  const std::string& admin_token() const { return admin_token_; }
  std::string Log() const { return process_ ? process_->Log() : ""; }

 private:
  TempDir dir_;
  int port_;
  int xds_port_;
  int starts_ = 0;
  std::string ca_file_;    // "": plain HTTP
  std::string store_url_;  // "": SQLite in the data directory
  std::unique_ptr<Subprocess> process_;
  std::string admin_token_;
};

// A keep-alive connection with a token; JSON in and out.
class Api {
 public:
  // `ca_file`: the CA to trust for an https:// `url`.
  Api(const std::string& url, std::string token, const std::string& ca_file = "");

  struct Result {
    int status = 0;
    Json body;  // null when the body is not JSON
    HttpResponse raw;
    // The error code of {"error": {"code"}} or "".
    std::string code() const;
    std::string field() const;
  };

  Result Call(const std::string& method, const std::string& target, const Json& body = nullptr,
              const HttpClient::Headers& headers = {});
  Result Get(const std::string& target) { return Call("GET", target); }
  Result Post(const std::string& target, const Json& body) { return Call("POST", target, body); }
  Result Put(const std::string& target, const Json& body) { return Call("PUT", target, body); }
  Result Delete(const std::string& target) { return Call("DELETE", target); }
  // Sends a raw body (not re-encoded).
  Result Raw(const std::string& method, const std::string& target, const std::string& body,
             const HttpClient::Headers& headers = {});

  const std::string& token() const { return token_; }

 private:
  std::unique_ptr<HttpClient> client_;
  std::string token_;
};

// Creates a token and returns its secret.
std::string CreateToken(Api& admin, const std::string& name, const std::string& role,
                        const std::string& zone = "");

// Zone `zone` with cluster "web", domain "api.example.com:80", route group
// "main" (default → web), route "root" and proxy "edge".
void SeedZone(Api& api, const std::string& zone);

}  // namespace causeway::testing
