// Who may open an ADS stream, and for which zone.
//
// A client sends `authorization: Bearer SECRET` in the stream's gRPC
// metadata (what Envoy sends from its bootstrap's `initial_metadata`). The
// xds module does not know where tokens live (the hub's store is a module
// above it): the process that runs the server hands it a
// StreamAuthenticator, and the server applies the rules below.
//
// Rules (docs/xds.md, "Authentication"):
//   - no or malformed header, unknown, revoked or expired token:
//     UNAUTHENTICATED before anything is read or sent;
//   - roles `proxy`, `agent` and `admin` may open streams; any other role is
//     PERMISSION_DENIED;
//   - a token limited to a zone serves only nodes whose locality.zone is that
//     zone, else PERMISSION_DENIED before anything is sent; an unlimited
//     token (an admin's) serves any zone;
//   - while a stream lives its token is asked about again every
//     `recheck` interval; once it no longer authenticates the stream ends
//     with UNAUTHENTICATED.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace causeway::xds {

// What a token says about who holds it.
struct StreamIdentity {
  std::string token;  // the token's name (shown on status pages), never the secret
  std::string role;   // e.g. "proxy", "agent", "admin"
  std::string zone;   // the zone the token is limited to; "" = every zone
};

class StreamAuthenticator {
 public:
  virtual ~StreamAuthenticator() = default;
  // The identity behind `secret` (the part after "Bearer "). UNAUTHENTICATED
  // when no valid token has it; UNAVAILABLE when it cannot be asked now.
  // Called on the xDS threads, for every new stream and every re-check, so
  // it must be quick (the hub's authenticator caches).
  virtual absl::StatusOr<StreamIdentity> Authenticate(const std::string& secret) = 0;
  // Whether the token behind `secret` (which authenticated as `identity`)
  // is still valid: not revoked, not expired. Called every re-check period
  // for each distinct token of the live streams; UNAVAILABLE keeps them.
  virtual absl::Status Recheck(const std::string& secret, const StreamIdentity& identity) = 0;
};

// The secret of an `authorization` metadata value ("Bearer SECRET", the
// scheme in any case). UNAUTHENTICATED naming what is wrong.
absl::StatusOr<std::string> BearerSecret(std::string_view authorization, bool present);

// Whether `identity` may open a stream for a node of `node_zone`.
// PERMISSION_DENIED naming the token, its zone or role, and the node's zone.
absl::Status AuthorizeNode(const StreamIdentity& identity, std::string_view node_zone);

enum class XdsAuth { kNone, kToken };

// The mode for `--xds-auth VALUE` on a server listening on `listen_address`
// ("host:port"). An empty value picks the default: `token` unless the host
// is a loopback address. `none` on any other address is InvalidArgument:
// every zone's configuration would be open to whoever reaches the port.
absl::StatusOr<XdsAuth> ResolveXdsAuth(std::string_view value, std::string_view listen_address);

// Whether the host of `listen_address` is a loopback address (127.0.0.0/8,
// ::1 or "localhost"); a wildcard (0.0.0.0, [::]) or any other name is not.
bool IsLoopbackListenAddress(std::string_view listen_address);

}  // namespace causeway::xds
