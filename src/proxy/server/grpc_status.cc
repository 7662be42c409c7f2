#include "proxy/server/grpc_status.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace causeway::proxy {
namespace {

// Debian's Abseil has a string_view of its own.
absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view StdView(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace

bool IsGrpcContentType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  type = StdView(absl::StripAsciiWhitespace(AbslView(type)));
  constexpr std::string_view kGrpc = "application/grpc";
  if (type.size() < kGrpc.size() ||
      !absl::EqualsIgnoreCase(AbslView(type.substr(0, kGrpc.size())), AbslView(kGrpc))) {
    return false;
  }
  // application/grpc-web is another protocol; only +suffix forms are gRPC.
  return type.size() == kGrpc.size() || type[kGrpc.size()] == '+';
}

absl::StatusOr<std::chrono::milliseconds> ParseGrpcTimeout(std::string_view value) {
  auto invalid = [value] {
    return absl::InvalidArgumentError(
        absl::StrCat("grpc-timeout \"", absl::CHexEscape(AbslView(value)),
                     "\": expected 1 to 8 digits and a unit (H, M, S, m, u or n), e.g. 250m"));
  };
  if (value.size() < 2 || value.size() > 9) return invalid();
  const std::string_view digits = value.substr(0, value.size() - 1);
  if (!std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit)) return invalid();
  uint64_t amount = 0;
  if (!absl::SimpleAtoi(AbslView(digits), &amount)) return invalid();
  // In milliseconds (99999999 hours overflow 64 bits of nanoseconds), the
  // finer units rounded up.
  int64_t ms = 0;
  const auto n = static_cast<int64_t>(amount);
  switch (value.back()) {
    case 'H':
      ms = n * 3'600'000;
      break;
    case 'M':
      ms = n * 60'000;
      break;
    case 'S':
      ms = n * 1'000;
      break;
    case 'm':
      ms = n;
      break;
    case 'u':
      ms = (n + 999) / 1'000;
      break;
    case 'n':
      ms = (n + 999'999) / 1'000'000;
      break;
    default:
      return invalid();
  }
  // A year is as good as forever, and keeps deadlines (now + timeout, in
  // the clock's nanoseconds) from overflowing.
  constexpr int64_t kYearMs = int64_t{365} * 24 * 3'600'000;
  return std::chrono::milliseconds(std::clamp<int64_t>(ms, 1, kYearMs));
}

std::chrono::milliseconds CapRouteTimeout(std::chrono::milliseconds route,
                                          std::chrono::milliseconds grpc) {
  if (route.count() == 0) return grpc;
  return std::min(route, grpc);
}

GrpcStatus GrpcStatusForHttp(int http_status) {
  switch (http_status) {
    case 400:
      return GrpcStatus::kInternal;
    case 401:
      return GrpcStatus::kUnauthenticated;
    case 403:
      return GrpcStatus::kPermissionDenied;
    case 404:
      return GrpcStatus::kUnimplemented;
    case 408:
    case 504:
      return GrpcStatus::kDeadlineExceeded;
    case 429:
    case 502:
    case 503:
      return GrpcStatus::kUnavailable;
    default:
      return GrpcStatus::kUnknown;
  }
}

std::string PercentEncodeGrpcMessage(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (char ch : message) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e || c == '%') {
      absl::StrAppendFormat(&out, "%%%02X", c);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

http2::HeaderList GrpcLocalReplyFields(int http_status, std::string_view message,
                                       const http2::HeaderList& extra) {
  http2::HeaderList fields = {
      {"content-type", "application/grpc"},
      {"grpc-status", absl::StrCat(static_cast<int>(GrpcStatusForHttp(http_status)))},
      {"grpc-message",
       PercentEncodeGrpcMessage(StdView(absl::StripTrailingAsciiWhitespace(AbslView(message))))},
  };
  for (const http2::Header& f : extra) {
    if (f.name == "content-type" || f.name == "content-length") continue;
    fields.push_back(f);
  }
  return fields;
}

}  // namespace causeway::proxy
