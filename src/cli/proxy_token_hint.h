// What `causeway token create NAME --role proxy --zone Z` tells its user to
// do with the new secret: the environment of causeway-proxy, and the ADS
// grpc_service of a real Envoy's bootstrap (which sends the token as gRPC
// metadata on every xDS stream).
#pragma once

#include <string>
#include <string_view>

namespace causeway::cli {

std::string ProxyTokenHint(std::string_view secret, std::string_view zone);

}  // namespace causeway::cli
