// The hub's tokens as the xDS server's StreamAuthenticator: xds (a lower
// module) defines what it needs, serve hands it the hub's authenticator.
#pragma once

#include <string>

#include "hub/auth/authenticator.h"
#include "hub/auth/principal.h"
#include "xds/stream_auth.h"

namespace causeway::serve {

class XdsStreamAuthenticator final : public xds::StreamAuthenticator {
 public:
  explicit XdsStreamAuthenticator(hub::auth::Authenticator* authenticator)
      : authenticator_(authenticator) {}

  absl::StatusOr<xds::StreamIdentity> Authenticate(const std::string& secret) override {
    auto principal = authenticator_->Authenticate("Bearer " + secret);
    if (!principal.ok()) return principal.status();
    return xds::StreamIdentity{principal->name, std::string(hub::auth::RoleName(principal->role)),
                               principal->zone};
  }

  // StillValid asks the store when its cached answer is older than half a
  // second, so a revocation through another hub sharing the store ends the
  // stream too; expiry is checked on every call.
  absl::Status Recheck(const std::string& secret, const xds::StreamIdentity&) override {
    auto principal = authenticator_->Authenticate("Bearer " + secret);
    if (!principal.ok()) return principal.status();
    return authenticator_->StillValid(*principal);
  }

 private:
  hub::auth::Authenticator* const authenticator_;
};

}  // namespace causeway::serve
