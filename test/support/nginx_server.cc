#include "support/nginx_server.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "gtest/gtest.h"

namespace causeway::testing {

NginxServer::NginxServer(std::string http_body, int worker_connections)
    : http_body_(std::move(http_body)), worker_connections_(worker_connections) {}

NginxServer::~NginxServer() {
  if (nginx_ && ::testing::Test::HasFailure()) {
    std::ifstream in(dir_.File("error.log"));
    std::stringstream text;
    text << in.rdbuf();
    std::cerr << "--- nginx error log ---\n" << text.str();
  }
  Stop();
}

bool NginxServer::Start(const std::vector<uint16_t>& ports) {
  const std::string& d = dir_.path();
  std::filesystem::create_directories(d + "/tmp");
  std::ofstream conf(dir_.File("nginx.conf"));
  conf << "daemon off;\nmaster_process off;\npid " << d << "/nginx.pid;\n"
       << "error_log " << d << "/error.log info;\n"
       << "events { worker_connections " << worker_connections_ << "; }\n"
       << "http {\n  access_log off;\n";
  for (const char* kind : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    conf << "  " << kind << "_temp_path " << d << "/tmp/" << kind << ";\n";
  }
  conf << http_body_ << "}\n";
  conf.close();
  Subprocess::Options p;
  p.argv = {kNginxBinary, "-p", d, "-e", dir_.File("error.log"), "-c", dir_.File("nginx.conf")};
  p.log_path = dir_.File("nginx.out");
  nginx_ = std::make_unique<Subprocess>(p);
  for (uint16_t port : ports) {
    if (!WaitFor([&] { return PortOpen(port); }, std::chrono::seconds(20))) {
      ADD_FAILURE() << "nginx did not listen on " << port;
      return false;
    }
  }
  return true;
}

void NginxServer::Stop() {
  if (nginx_) nginx_->Stop();
  nginx_.reset();
}

}  // namespace causeway::testing
