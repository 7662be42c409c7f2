#include "cli/proxy_token_hint.h"

#include "gtest/gtest.h"

namespace causeway::cli {
namespace {

TEST(ProxyTokenHintTest, EnvironmentAndEnvoyBootstrap) {
  std::string hint = ProxyTokenHint("cw_secret", "dev");
  EXPECT_NE(hint.find("CAUSEWAY_XDS_TOKEN=cw_secret\n"), std::string::npos) << hint;
  EXPECT_NE(hint.find("CAUSEWAY_ZONE=dev\n"), std::string::npos) << hint;
  EXPECT_NE(hint.find("initial_metadata:\n      - key: authorization\n"
                      "        value: \"Bearer cw_secret\"\n"),
            std::string::npos)
      << hint;
}

}  // namespace
}  // namespace causeway::cli
