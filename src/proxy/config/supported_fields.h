// The Envoy fields causeway-proxy implements, and the check that refuses
// every other one. A control plane written for Envoy may set a field the
// proxy does not act on (TLS on a cluster, an authorization filter); serving
// such a configuration without it would quietly drop what the field asked
// for, so the whole update is refused instead (a NACK naming the field) and
// the last good configuration keeps serving.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "proxy/config/build_config.h"

namespace causeway::proxy {

// OK when every field set in `message`, at any depth, is one the proxy
// implements (or may ignore, supported_fields.cc says why for each);
// otherwise InvalidArgument naming the first one that is not with its path
// after `where` (the resource):
//   cluster 'api': transport_socket is not supported by causeway-proxy
// Enum values the proxy does not implement, `Any` payloads of other types and
// fields the wire data held that this build's Envoy API does not know are
// refused the same way.
absl::Status CheckSupportedFields(const std::string& where,
                                  const google::protobuf::Message& message);

// The check over every resource of a set: listeners (but those with an
// api_listener, which are for proxyless gRPC clients and not served by the
// proxy), route configurations, clusters and cluster load assignments.
absl::Status CheckSupportedFields(const ConfigInput& input);

// OK when every table entry names a field of its message type (a misspelt
// entry would allow nothing and refuse what it meant to allow).
absl::Status CheckSupportedFieldTables();

}  // namespace causeway::proxy
