#include "nginx_tls_origin.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace causeway::proxy::testing {

using causeway::testing::FreePort;
using causeway::testing::PortOpen;
using causeway::testing::Subprocess;
using causeway::testing::WaitFor;

NginxTlsOrigin::NginxTlsOrigin(Options options)
    : options_(std::move(options)),
      port_(static_cast<uint16_t>(FreePort())),
      clear_text_port_(static_cast<uint16_t>(FreePort())) {}

NginxTlsOrigin::~NginxTlsOrigin() {
  if (nginx_ && ::testing::Test::HasFailure()) {
    std::ifstream in(dir_.File("error.log"));
    std::stringstream text;
    text << in.rdbuf();
    std::cerr << "--- nginx error log ---\n" << text.str();
  }
  if (nginx_) nginx_->Stop();
}

bool NginxTlsOrigin::Start() {
  const std::string& d = dir_.path();
  std::filesystem::create_directories(d + "/tmp");
  std::ofstream conf(dir_.File("nginx.conf"));
  // One process in the foreground, so that stopping it stops nginx.
  conf << "daemon off;\nmaster_process off;\npid " << d << "/nginx.pid;\n"
       << "error_log " << d << "/error.log info;\n"
       << "events { worker_connections 256; }\n"
       << "http {\n  access_log off;\n"
       << "  client_body_temp_path " << d << "/tmp/body;\n"
       << "  proxy_temp_path " << d << "/tmp/proxy;\n"
       << "  fastcgi_temp_path " << d << "/tmp/fastcgi;\n"
       << "  uwsgi_temp_path " << d << "/tmp/uwsgi;\n"
       << "  scgi_temp_path " << d << "/tmp/scgi;\n"
       << "  server {\n    listen 127.0.0.1:" << port_ << " ssl;\n"
       << "    listen 127.0.0.1:" << clear_text_port_ << ";\n"
       << "    ssl_certificate " << options_.cert << ";\n"
       << "    ssl_certificate_key " << options_.key << ";\n";
  if (!options_.client_ca.empty()) {
    conf << "    ssl_client_certificate " << options_.client_ca << ";\n"
         << "    ssl_verify_client on;\n";
  }
  conf << "    location / {\n      add_header x-origin nginx-tls;\n"
       << "      add_header x-conn $connection;\n"
       << "      return 200 \"tls $ssl_protocol sni=$ssl_server_name\\n\";\n    }\n  }\n}\n";
  conf.close();
  Subprocess::Options p;
  p.argv = {"/usr/sbin/nginx",      "-p", d, "-e", dir_.File("error.log"), "-c",
            dir_.File("nginx.conf")};
  p.log_path = dir_.File("nginx.out");
  nginx_ = std::make_unique<Subprocess>(p);
  if (!WaitFor([&] { return PortOpen(port_); }, std::chrono::seconds(20))) {
    ADD_FAILURE() << "nginx did not listen on " << port_;
    return false;
  }
  return true;
}

}  // namespace causeway::proxy::testing
