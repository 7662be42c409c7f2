// Routing-key proofs: HMAC-SHA256 of "ZONE/KEY/OWNER" in base64url, the
// same for the same triple, different when any part differs.
#include "hub/auth/key_proof.h"

#include "gtest/gtest.h"

namespace causeway::hub::auth {
namespace {

TEST(KeyProofTest, IsBase64UrlHmacOfZoneKeyOwner) {
  // Python: base64.urlsafe_b64encode(hmac.new(b"secret",
  // b"staging/alice/alice-token", hashlib.sha256).digest()).rstrip(b"=")
  EXPECT_EQ(KeyProof("secret", "staging", "alice", "alice-token"),
            "2bJKZ_r4GIwAaA1rrqYpKuec32itNkLkLRYX27843QI");
}

TEST(KeyProofTest, EachPartChangesTheProof) {
  const std::string base = KeyProof("secret", "staging", "alice", "alice-token");
  EXPECT_EQ(KeyProof("secret", "staging", "alice", "alice-token"), base);
  EXPECT_NE(KeyProof("other", "staging", "alice", "alice-token"), base);
  EXPECT_NE(KeyProof("secret", "prod", "alice", "alice-token"), base);
  EXPECT_NE(KeyProof("secret", "staging", "bob", "alice-token"), base);
  EXPECT_NE(KeyProof("secret", "staging", "alice", "bob-token"), base);
  EXPECT_EQ(base.size(), 43u);
  EXPECT_EQ(base.find_first_of("+/="), std::string::npos);
}

}  // namespace
}  // namespace causeway::hub::auth
