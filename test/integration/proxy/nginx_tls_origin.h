// Debian's nginx as a TLS origin for the proxy's tests: one server with an
// `ssl` listener on a loopback port chosen at run time, answering every
// request 200 with the name it was reached by (SNI), the TLS version and
// nginx's connection number (x-conn, to see keep-alive reuse). A second
// port serves the same in clear text (an endpoint a TLS handshake fails on).
#pragma once

#include <memory>
#include <string>

#include "support/nginx_server.h"
#include "support/process.h"

namespace causeway::proxy::testing {

class NginxTlsOrigin {
 public:
  struct Options {
    std::string cert, key;
    std::string client_ca;  // set: a client certificate signed by it is required
  };
  explicit NginxTlsOrigin(Options options);
  ~NginxTlsOrigin();
  // Starts nginx and waits until it listens; false (with nginx's log in the
  // failure) if it does not.
  bool Start();
  uint16_t port() const { return port_; }
  uint16_t clear_text_port() const { return clear_text_port_; }

 private:
  Options options_;
  uint16_t port_;
  uint16_t clear_text_port_;
  std::unique_ptr<causeway::testing::NginxServer> nginx_;
};

}  // namespace causeway::proxy::testing
