// The proxy's xDS client: one ADS stream (state of the world) to the control
// plane, LDS and CDS by wildcard plus the RDS and EDS resources they name,
// handing each complete resource set to the data plane.
//
// The configuration last applied keeps serving while the control plane is
// unreachable; the client reconnects with exponential backoff and jitter and
// re-requests everything on the new stream. Protocol decisions (ACK/NACK,
// subscriptions, warming) live in AdsState; this class owns the gRPC stream,
// the event loop thread and the timers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/time_source.h"
#include "nlohmann/json.hpp"
#include "proxy/xds_client/backoff.h"
#include "proxy/xds_client/resources.h"

namespace causeway::proxy {

class XdsClient {
 public:
  struct Options {
    std::string server;      // control plane, "host:port"
    std::string proxy_name;  // node.cluster
    std::string zone;        // node.locality.zone
    std::string node_id;     // node.id (this instance); defaults to proxy_name
    // node.metadata "causeway.edge": true, so the hub sends the routing-key
    // guard's table (docs/two-way-routing.md, "Keys at the edge").
    bool edge = false;
    // TLS to the control plane, verified against the PEM roots in `ca_file`
    // ("" = the system's roots).
    bool tls = false;
    std::string ca_file;
    // The bearer token sent as `authorization` metadata on every stream:
    // `token`, or the contents of `token_file`, read before every
    // connection attempt and checked once a second while connected (a
    // changed token replaces the stream at once). Neither: no token.
    std::string token;
    std::string token_file;
    Backoff::Options backoff;
    // A set still missing resources after this long is applied anyway.
    std::chrono::milliseconds warming_timeout{15000};
    // Longest the event loop sleeps before looking at the clock again; only
    // matters for a clock that does not follow real time (tests).
    std::chrono::milliseconds max_poll{1000};
    // Largest response accepted from the server.
    int max_message_bytes = 64 << 20;
    const TimeSource* time = nullptr;  // defaults to RealTime
  };

  struct Stats {
    bool connected = false;               // a stream is up and the server has answered on it
    uint64_t connects = 0;                // streams on which the server answered
    uint64_t disconnects = 0;             // streams that ended after connecting
    uint64_t updates_accepted = 0;        // responses ACKed
    uint64_t updates_rejected = 0;        // responses NACKed
    uint64_t applies = 0;                 // resource sets handed to apply successfully
    uint64_t auth_refusals = 0;           // streams the server ended for their credentials
    std::string last_error;               // last rejection or stream error
    std::string versions[kXdsTypeCount];  // last accepted version, by XdsType
  };

  // `apply` runs on the client's thread with each new complete set; a non-OK
  // status NACKs the update (its message becomes error_detail) and the
  // previous set keeps serving, so apply must have no effect when it fails.
  using ApplyFn = std::function<absl::Status(const XdsResources&)>;

  // Whether the files the options name can be read (the CA as PEM, the
  // token file non-empty): InvalidArgument naming the flag and file.
  static absl::Status CheckOptions(const Options& options);

  XdsClient(Options options, ApplyFn apply);
  ~XdsClient();  // Stop()s
  XdsClient(const XdsClient&) = delete;
  XdsClient& operator=(const XdsClient&) = delete;

  // Starts the event loop thread and connects. Call once.
  void Start();
  // Closes the stream and joins the thread; apply is not called afterwards.
  void Stop();

  // The set last applied, with versions and connection state, as JSON (for
  // the admin /config_dump).
  nlohmann::json ConfigDump() const;
  Stats stats() const;

 private:
  class Loop;

  Options options_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace causeway::proxy
