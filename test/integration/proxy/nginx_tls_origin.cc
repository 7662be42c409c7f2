#include "nginx_tls_origin.h"

#include <sstream>

namespace causeway::proxy::testing {

using causeway::testing::FreePort;
using causeway::testing::NginxServer;

NginxTlsOrigin::NginxTlsOrigin(Options options)
    : options_(std::move(options)),
      port_(static_cast<uint16_t>(FreePort())),
      clear_text_port_(static_cast<uint16_t>(FreePort())) {}

NginxTlsOrigin::~NginxTlsOrigin() = default;

bool NginxTlsOrigin::Start() {
  std::ostringstream conf;
  conf << "  server {\n    listen 127.0.0.1:" << port_ << " ssl;\n"
       << "    listen 127.0.0.1:" << clear_text_port_ << ";\n"
       << "    ssl_certificate " << options_.cert << ";\n"
       << "    ssl_certificate_key " << options_.key << ";\n";
  if (!options_.client_ca.empty()) {
    conf << "    ssl_client_certificate " << options_.client_ca << ";\n"
         << "    ssl_verify_client on;\n";
  }
  conf << "    location / {\n      add_header x-origin nginx-tls;\n"
       << "      add_header x-conn $connection;\n"
       << "      return 200 \"tls $ssl_protocol sni=$ssl_server_name\\n\";\n    }\n  }\n";
  nginx_ = std::make_unique<NginxServer>(conf.str());
  return nginx_->Start({port_});
}

}  // namespace causeway::proxy::testing
