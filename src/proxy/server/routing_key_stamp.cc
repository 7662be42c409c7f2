#include "proxy/server/routing_key_stamp.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace causeway::proxy {
namespace {

std::string_view StampTrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StampIsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool StampAllZero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

// "name = value" split at its first '=', both sides trimmed; false without one.
bool StampSplitPair(std::string_view pair, std::string_view* name, std::string_view* value) {
  const size_t eq = pair.find('=');
  if (eq == std::string_view::npos) return false;
  *name = StampTrimBlanks(pair.substr(0, eq));
  *value = StampTrimBlanks(pair.substr(eq + 1));
  return true;
}

CarrierKey StampFound(std::string_view value) {
  return CarrierKey{true, IsRoutingKey(value) ? value : std::string_view()};
}

// Calls `f` with each part of `list` between `sep`s, at most `limit` parts;
// stops when `f` returns true.
template <typename F>
void StampForEachPart(std::string_view list, char sep, size_t limit, F&& f) {
  for (size_t n = 0; n < limit && !list.empty(); ++n) {
    const size_t end = list.find(sep);
    if (f(list.substr(0, end))) return;
    if (end == std::string_view::npos) return;
    list.remove_prefix(end + 1);
  }
}

}  // namespace

bool IsRoutingKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

CarrierKey BaggageKey(std::string_view baggage) {
  CarrierKey out;
  StampForEachPart(baggage, ',', kMaxBaggageMembers, [&](std::string_view member) {
    // Properties follow the member's value after ';'.
    std::string_view name, value;
    if (!StampSplitPair(member.substr(0, member.find(';')), &name, &value)) return false;
    if (name != kKeyBaggageMember) return false;
    out = StampFound(value);
    return true;
  });
  return out;
}

CarrierKey CookieKey(std::string_view cookie) {
  CarrierKey out;
  // A Cookie header is bounded by the head's size limit; no count limit.
  StampForEachPart(cookie, ';', cookie.size() + 1, [&](std::string_view pair) {
    std::string_view name, value;
    if (!StampSplitPair(pair, &name, &value) || name != kKeyCookie) return false;
    out = StampFound(value);
    return true;
  });
  return out;
}

CarrierKey RequestKey(const std::vector<http1::Header>& headers) {
  CarrierKey header, baggage, cookie;
  for (const http1::Header& h : headers) {
    if (!header.present && http1::EqualsIgnoreCase(h.name, kKeyHeader)) {
      header = StampFound(StampTrimBlanks(h.value));
    } else if (!baggage.present && http1::EqualsIgnoreCase(h.name, "baggage")) {
      baggage = BaggageKey(h.value);
    } else if (!cookie.present && http1::EqualsIgnoreCase(h.name, "cookie")) {
      cookie = CookieKey(h.value);
    }
  }
  CarrierKey out;
  out.present = header.present || baggage.present || cookie.present;
  for (const CarrierKey* c : {&header, &baggage, &cookie}) {
    if (!c->key.empty()) {
      out.key = c->key;
      break;
    }
  }
  return out;
}

std::optional<std::string_view> TraceparentTraceId(std::string_view value) {
  std::string_view v = StampTrimBlanks(value);
  // VV-TTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTT-PPPPPPPPPPPPPPPP-FF: 55 characters.
  constexpr size_t kLength = 55;
  if (v.size() < kLength || v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  const std::string_view version = v.substr(0, 2), trace = v.substr(3, 32),
                         parent = v.substr(36, 16), flags = v.substr(53, 2);
  if (!StampIsLowerHex(version) || !StampIsLowerHex(trace) || !StampIsLowerHex(parent) ||
      !StampIsLowerHex(flags)) {
    return std::nullopt;
  }
  if (version == "ff" || StampAllZero(trace) || StampAllZero(parent)) return std::nullopt;
  // Version 00 ends at the flags; a later version may add fields after '-'.
  if (v.size() > kLength && (version == "00" || v[kLength] != '-')) return std::nullopt;
  return trace;
}

bool IsB3TraceId(std::string_view value) {
  return (value.size() == 16 || value.size() == 32) && StampIsLowerHex(value) &&
         !StampAllZero(value);
}

bool IsRequestId(std::string_view value) {
  if (value.empty() || value.size() > kMaxRequestIdLength) return false;
  return std::all_of(value.begin(), value.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

TraceMemoryKeys::TraceMemoryKeys(const std::vector<http1::Header>& headers) {
  std::string_view trace, request_id;
  for (const http1::Header& h : headers) {
    if (trace.empty() && http1::EqualsIgnoreCase(h.name, kTraceparentHeader)) {
      trace = TraceparentTraceId(h.value).value_or(std::string_view());
    } else if (trace.empty() && http1::EqualsIgnoreCase(h.name, kB3TraceIdHeader)) {
      const std::string_view v = StampTrimBlanks(h.value);
      if (IsB3TraceId(v)) trace = v;
    } else if (request_id.empty() && http1::EqualsIgnoreCase(h.name, kRequestIdHeader)) {
      const std::string_view v = StampTrimBlanks(h.value);
      if (IsRequestId(v)) request_id = v;
    }
  }
  // 't' and 'r' keep the two spaces apart: a request id that happens to be
  // 32 hex digits is not a trace id.
  if (!trace.empty()) Add('t', trace, 32);
  if (!request_id.empty()) Add('r', request_id, 0);
}

void TraceMemoryKeys::Add(char kind, std::string_view id, size_t pad_to) {
  std::array<char, 1 + kMaxRequestIdLength>& key = keys_[count_];
  key[0] = kind;
  const size_t pad = id.size() < pad_to ? pad_to - id.size() : 0;
  std::memset(key.data() + 1, '0', pad);
  std::memcpy(key.data() + 1 + pad, id.data(), id.size());
  lengths_[count_] = 1 + pad + id.size();
  ++count_;
}

RoutingKeyStamper::RoutingKeyStamper(Options options, TimeSource& time)
    : routing_key_(std::move(options.routing_key)), memory_(options.memory, time) {}

RoutingKeyStamper::Outcome RoutingKeyStamper::Stamp(http1::RequestHead& request,
                                                    std::string* storage) {
  const CarrierKey carried = RequestKey(request.headers);
  if (carried.present) {
    if (carried.key.empty()) return Outcome::kCarried;
    const TraceMemoryKeys ids(request.headers);
    for (size_t i = 0; i < ids.size(); ++i) memory_.Remember(ids[i], carried.key);
    if (ids.size() > 0) remembered_.fetch_add(1, std::memory_order_relaxed);
    return Outcome::kCarried;
  }
  const TraceMemoryKeys ids(request.headers);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (memory_.Find(ids[i], storage)) {
      request.headers.push_back({kKeyHeader, *storage});
      stamped_by_trace_.fetch_add(1, std::memory_order_relaxed);
      return Outcome::kStampedTrace;
    }
  }
  if (routing_key_.empty()) return Outcome::kUnkeyed;
  // The stamper outlives every request, so its own key needs no copy.
  request.headers.push_back({kKeyHeader, routing_key_});
  stamped_by_env_.fetch_add(1, std::memory_order_relaxed);
  return Outcome::kStampedOwnKey;
}

RoutingKeyStamper::Counters RoutingKeyStamper::counters() const {
  Counters c;
  c.stamped_by_env = stamped_by_env_.load(std::memory_order_relaxed);
  c.stamped_by_trace = stamped_by_trace_.load(std::memory_order_relaxed);
  c.remembered = remembered_.load(std::memory_order_relaxed);
  c.evicted = memory_.evicted();
  c.expired = memory_.expired();
  return c;
}

}  // namespace causeway::proxy
