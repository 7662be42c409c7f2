// Routing-key proofs (docs/two-way-routing.md, "Keys at the edge"): what lets
// an edge proxy tell the owner's requests carrying routing key KEY from
// anyone else's that merely name it.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "model/intercept.h"
#include "store/store.h"

namespace causeway::hub::auth {

// base64url without padding (43 characters) of HMAC-SHA256(secret,
// "ZONE/KEY/OWNER"). Zone and owner are object names and the key a routing
// key, none of which holds '/', so distinct triples never share a message.
// It depends on nothing else, so the proof stays the same across renewals,
// restarts of the laptop's command and an intercept swept and created again.
std::string KeyProof(std::string_view secret, std::string_view zone, std::string_view key,
                     std::string_view owner);

// The store's proof secret: the stored one, or a new random one (256 bits)
// stored now. Every hub on one store gets the same secret, so every hub
// derives the same proofs.
absl::StatusOr<std::string> LoadKeyProofSecret(store::Store& store);

// The proof of intercept `v` in `zone` (its key and owner), from the store's
// secret; also sets `v->proof_sha256`, the hash edge proxies are given.
absl::StatusOr<std::string> StampKeyProof(store::Store& store, std::string_view zone,
                                          model::Intercept* v);

}  // namespace causeway::hub::auth
