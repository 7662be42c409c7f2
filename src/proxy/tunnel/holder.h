// The staging side of the tunnel: a proxy started with a tunnel listener
// holds laptops' tunnels (docs/two-way-routing.md, "The tunnel").
//
// One Worker (the proxy's event loop, its own thread) runs all of it: the
// TLS tunnel listener and each laptop's upgrade, the tunnels themselves
// (HTTP/2 client connections adopted into the worker's HTTP/2 pool, under
// an endpoint of their own per intercept), their PINGs, and the forward
// listener whose requests become streams on them. A request path never
// takes a lock, and an HTTP/2 connection is driven by the loop it lives
// on, so the requests that use a tunnel must run where the tunnel runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proxy/server/access_log.h"
#include "proxy/tunnel/hub_reporter.h"

namespace causeway::proxy::tunnel {

struct TunnelHolderOptions {
  std::string listen;          // ADDR:PORT of the tunnel listener (TLS)
  std::string cert, key;       // its certificate and key (PEM files, re-read when changed)
  std::string forward_listen;  // ADDR:PORT of the forward listener (HTTP/1.1 and h2c)
  // host:port the zone's proxies reach the forward listener at; "" : the
  // forward listener's own address.
  std::string advertise;
  std::chrono::milliseconds ping_interval{1000};
  // How long a request waits for the laptop's response head (0: no bound).
  std::chrono::milliseconds response_timeout{3000};
  std::chrono::milliseconds handshake_timeout{10000};
  HubReporterOptions hub;  // hub, hub_ca, token, proxy (advertise is filled in)
  AccessLog* access_log = nullptr;
};

class TunnelHolder {
 public:
  // Binds both listeners and starts the worker; errors name the option.
  static absl::StatusOr<std::unique_ptr<TunnelHolder>> Start(TunnelHolderOptions options);
  virtual ~TunnelHolder() = default;
  // Closes the tunnels (each withdrawn at the hub) and the listeners.
  virtual void Stop() = 0;
  virtual uint16_t tunnel_port() const = 0;
  virtual uint16_t forward_port() const = 0;
};

}  // namespace causeway::proxy::tunnel
