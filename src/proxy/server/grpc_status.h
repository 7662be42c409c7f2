// gRPC on the proxy's HTTP/2 streams: what a gRPC request (content-type
// application/grpc, application/grpc+proto, ...) changes for the proxy.
//
// - grpc-timeout (the caller's deadline: up to 8 digits and a unit, H M S
//   m u n) caps the route timeout for the request; the smaller wins.
// - An answer the proxy makes itself (no route, no healthy upstream, a
//   timeout, an overflow, a reset) goes as a gRPC "trailers-only" response:
//   one HEADERS frame with END_STREAM, :status 200, content-type
//   application/grpc, grpc-status and grpc-message. gRPC clients read the
//   status from there; an HTTP 503 would reach the application as an
//   unhelpful UNKNOWN or a transport error.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proxy/codec/http2_codec.h"

namespace causeway::proxy {

// gRPC status codes the proxy answers with (grpc/status.h numbering).
enum class GrpcStatus : int {
  kOk = 0,
  kUnknown = 2,
  kDeadlineExceeded = 4,
  kPermissionDenied = 7,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kUnauthenticated = 16,
};

// True for content-type application/grpc and its +suffix forms
// (application/grpc+proto), parameters allowed; not gRPC-Web.
bool IsGrpcContentType(std::string_view content_type);

// The value of a grpc-timeout header as a duration, rounded up to whole
// milliseconds (at least 1, so it never reads as "no timeout"; at most a
// year, so a deadline computed from it cannot overflow). An error
// names the value and the format it breaks.
absl::StatusOr<std::chrono::milliseconds> ParseGrpcTimeout(std::string_view value);

// The route timeout for a request with a grpc-timeout: the smaller of the
// two; a route timeout of 0 (none) leaves the gRPC one.
std::chrono::milliseconds CapRouteTimeout(std::chrono::milliseconds route,
                                          std::chrono::milliseconds grpc);

// The status a proxy-made HTTP answer becomes, as Envoy maps it (400
// INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED,
// 429/502/503 UNAVAILABLE, else UNKNOWN) except that the timeouts, 504 and
// 408, are DEADLINE_EXCEEDED: the caller's deadline is what ran out.
GrpcStatus GrpcStatusForHttp(int http_status);

// A grpc-message value: bytes outside printable ASCII, and '%', as %XX
// (the gRPC HTTP/2 protocol's percent-encoding).
std::string PercentEncodeGrpcMessage(std::string_view message);

// The fields of a trailers-only response for a local reply with
// `http_status` and `message` (trailing white space dropped), after the
// `:status` 200: content-type, grpc-status, grpc-message, then `extra`
// (the route's response header additions) without content-type and
// content-length.
http2::HeaderList GrpcLocalReplyFields(int http_status, std::string_view message,
                                       const http2::HeaderList& extra = {});

}  // namespace causeway::proxy
