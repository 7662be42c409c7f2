// The laptop's end of an intercept's tunnel (docs/two-way-routing.md, "The
// tunnel"). It dials out over TLS to a staging proxy's tunnel listener,
// asks for the upgrade to `causeway-tunnel` with the developer's token, and
// once the holder answers 101 serves the connection as an HTTP/2 *server*:
// every stream the holder opens is a request for the local service `to`,
// forwarded with the proxy's own downstream code (an HTTP/2 session over a
// configuration built in memory). A local service that refuses the
// connection is answered 503 with `x-causeway-fallback: local-refused`, so
// staging serves the request instead.
//
// Refusals 401, 403 and 404 are permanent (the token, the owner or the
// intercept is wrong; trying again cannot help); any other failure (the
// holder unreachable, a 502 from it, the connection lost) is retried with
// an exponential back-off until Stop().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace causeway::proxy::tunnel {

enum class ToProtocol {
  kHttp1,  // HTTP/1.1 to the local service (gRPC requests still go as h2c)
  kHttp2,  // HTTP/2 with prior knowledge (h2c) for every request
};

struct TunnelClientOptions {
  std::string tunnel;       // host:port of the holder's tunnel listener
  std::string ca_file;      // PEM CA bundle that verifies the holder; empty: system roots
  std::string server_name;  // TLS SNI and the name verified; empty: the host of `tunnel`
  std::string token;        // the laptop's bearer token (the intercept's owner)
  std::string zone;
  std::string intercept;  // the intercept's name
  std::string to;         // host:port of the local service
  ToProtocol to_protocol = ToProtocol::kHttp1;
  // Reconnect back-off: doubles from `backoff_initial` up to `backoff_max`.
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{10000};
  // The handshake's deadline (TCP connect, TLS and the upgrade's answer).
  std::chrono::milliseconds handshake_timeout{10000};
};

struct TunnelEvent {
  enum class Kind {
    kConnecting,    // dialing the holder (each attempt)
    kConnected,     // the holder answered 101; requests may arrive
    kDisconnected,  // a connection or an attempt ended; `message` says why; retried
    kRefused,       // the holder answered with an error status
  };
  Kind kind = Kind::kConnecting;
  int status = 0;          // kRefused: the HTTP status (401, 403, 404, 502, ...)
  std::string message;     // kDisconnected: the reason; kRefused: the error's message
  bool permanent = false;  // kRefused with 401/403/404: the client stopped trying
};

class TunnelClient {
 public:
  // Called on the client's own thread, one event at a time; it must not
  // call Stop().
  using EventCallback = std::function<void(const TunnelEvent&)>;

  // Checks the options (errors name the option and its value) and loads the
  // CA file; starts nothing.
  static absl::StatusOr<std::unique_ptr<TunnelClient>> Create(TunnelClientOptions options,
                                                              EventCallback on_event);
  virtual ~TunnelClient() = default;

  // Starts the client's thread, which dials and keeps the tunnel up.
  virtual absl::Status Start() = 0;
  // Closes the tunnel and joins the thread; requests in flight are reset
  // (the holder answers them from staging). Idempotent.
  virtual void Stop() = 0;

  // Whether a tunnel is up right now.
  virtual bool connected() const = 0;
  // Requests answered over the tunnel since Start() (local-refused included).
  virtual uint64_t requests_served() const = 0;
};

}  // namespace causeway::proxy::tunnel
