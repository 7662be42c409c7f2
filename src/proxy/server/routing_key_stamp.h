// Stamping the routing key (docs/two-way-routing.md, "Stamping the key"):
// once a request's headers are final and before it is routed, a request
// that carries no key in any carrier gets `x-causeway-key` added, so that
// the key routes of every proxy after this one (which match that header
// first) send it where its key says.
//
// Where the key comes from, in this order:
//   1. the trace: a request that carried a key and trace ids taught this
//      proxy's TraceKeyMemory which key its trace has, and a later request
//      of the same trace (a call its service made, propagating only the
//      trace context) gets that key back;
//   2. the proxy's own key (--routing-key / CAUSEWAY_ROUTING_KEY): the
//      sidecar on a developer's laptop stamps every call leaving it.
// A request that carries a key keeps it, valid or not: the proxy never adds
// a second, different key beside one a client chose.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time_source.h"
#include "proxy/codec/http1.h"
#include "proxy/server/trace_key_memory.h"

namespace causeway::proxy {

// The carriers (the same names as model/intercept.h, which the proxy's
// request path does not link).
inline constexpr std::string_view kKeyHeader = "x-causeway-key";
inline constexpr std::string_view kKeyBaggageMember = "causeway-key";
inline constexpr std::string_view kKeyCookie = "causeway-key";
inline constexpr size_t kMaxKeyLength = 32;
// The trace headers read.
inline constexpr std::string_view kTraceparentHeader = "traceparent";
inline constexpr std::string_view kRequestIdHeader = "x-request-id";
inline constexpr std::string_view kB3TraceIdHeader = "x-b3-traceid";
// W3C Baggage's limit on list members; members past it are not looked at.
inline constexpr size_t kMaxBaggageMembers = 180;
// x-request-id values longer than this are not remembered (a UUID is 36).
inline constexpr size_t kMaxRequestIdLength = 128;

// [A-Za-z0-9._-]{1,32}, as model::IsValidRoutingKey.
bool IsRoutingKey(std::string_view key);

// A carrier found in a header's value. `present`: the carrier is there;
// `key`: its value when that is a valid routing key (else empty).
struct CarrierKey {
  bool present = false;
  std::string_view key;
};
// The W3C baggage list member `causeway-key` (blanks allowed around `,`,
// `=` and `;`, properties after `;` ignored).
CarrierKey BaggageKey(std::string_view baggage);
// The cookie `causeway-key` in a Cookie header (`name=value` pairs split by
// `;`, blanks around them ignored; names are case-sensitive).
CarrierKey CookieKey(std::string_view cookie);
// The key a request carries: header, then baggage, then cookie (the order
// of the key routes). `present` if any carrier is there at all.
CarrierKey RequestKey(const std::vector<http1::Header>& headers);

// The trace-id field of a W3C traceparent (`VV-TRACEID-PARENTID-FLAGS`,
// lowercase hex; version ff, an all-zero trace or parent id and version 00
// with anything after the flags are invalid), or nullopt.
std::optional<std::string_view> TraceparentTraceId(std::string_view value);
// A B3 trace id: 16 or 32 lowercase hex digits, not all zero.
bool IsB3TraceId(std::string_view value);
// An x-request-id worth remembering: 1 to 128 visible ASCII characters.
bool IsRequestId(std::string_view value);

// The memory's keys of a request's trace ids, in the order they are asked
// for: the W3C/B3 trace id (one space: B3's 64-bit ids padded to 128 bits,
// as W3C interop does), then the request id; at most one of each kind (the
// first valid header of the kind). Kept inline: no allocation per request.
class TraceMemoryKeys {
 public:
  explicit TraceMemoryKeys(const std::vector<http1::Header>& headers);
  size_t size() const { return count_; }
  std::string_view operator[](size_t i) const { return {keys_[i].data(), lengths_[i]}; }

 private:
  void Add(char kind, std::string_view id, size_t pad_to);
  std::array<std::array<char, 1 + kMaxRequestIdLength>, 2> keys_;
  std::array<size_t, 2> lengths_{};
  size_t count_ = 0;
};

class RoutingKeyStamper {
 public:
  struct Options {
    std::string routing_key;  // empty: only trace memory stamps
    TraceKeyMemory::Options memory;
  };
  enum class Outcome {
    kCarried,        // the request carries a key (remembered if it has trace ids)
    kStampedTrace,   // got its trace's key
    kStampedOwnKey,  // got the proxy's own key
    kUnkeyed,        // no key and nothing to stamp
  };
  struct Counters {
    uint64_t stamped_by_env = 0;    // the proxy's own key added
    uint64_t stamped_by_trace = 0;  // a remembered trace's key added
    uint64_t remembered = 0;        // a keyed request's trace ids remembered
    uint64_t evicted = 0;           // forgotten to make room
    uint64_t expired = 0;           // forgotten unseen for the memory's time
  };

  RoutingKeyStamper(Options options, TimeSource& time);

  // Looks at a request whose headers are final. A stamped key's value is
  // kept in `*storage`, which must outlive `request`'s use of its headers.
  Outcome Stamp(http1::RequestHead& request, std::string* storage);

  Counters counters() const;
  const std::string& routing_key() const { return routing_key_; }
  const TraceKeyMemory& memory() const { return memory_; }

 private:
  const std::string routing_key_;
  TraceKeyMemory memory_;
  std::atomic<uint64_t> stamped_by_env_{0};
  std::atomic<uint64_t> stamped_by_trace_{0};
  std::atomic<uint64_t> remembered_{0};
};

// The request path's hook: nothing when the proxy has no stamper.
inline void StampRoutingKey(RoutingKeyStamper* stamper, http1::RequestHead& request,
                            std::string* storage) {
  if (stamper != nullptr) stamper->Stamp(request, storage);
}

}  // namespace causeway::proxy
