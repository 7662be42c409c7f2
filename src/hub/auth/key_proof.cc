#include "hub/auth/key_proof.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "absl/strings/escaping.h"
#include "common/strings.h"
#include "hub/auth/secrets.h"

namespace causeway::hub::auth {

std::string KeyProof(std::string_view secret, std::string_view zone, std::string_view key,
                     std::string_view owner) {
  const std::string message = StrCat(zone, "/", key, "/", owner);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &length);
  std::string encoded;
  absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<const char*>(mac.data()), length),
                            &encoded);
  return encoded;
}

absl::StatusOr<std::string> LoadKeyProofSecret(store::Store& store) {
  absl::StatusOr<std::string> candidate = GenerateSecret();
  if (!candidate.ok()) return candidate.status();
  return store.KeyProofSecret(*candidate);
}

absl::StatusOr<std::string> StampKeyProof(store::Store& store, std::string_view zone,
                                          model::Intercept* v) {
  absl::StatusOr<std::string> secret = LoadKeyProofSecret(store);
  if (!secret.ok()) return secret.status();
  std::string proof = KeyProof(*secret, zone, v->key, v->owner);
  v->proof_sha256 = Sha256Hex(proof);
  return proof;
}

}  // namespace causeway::hub::auth
