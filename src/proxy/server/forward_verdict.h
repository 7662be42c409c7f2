// What follows an upstream attempt that produced no response to forward:
// a retry, a replay on a fresh connection, a local reply or the end of the
// request. Shared by the HTTP/1.1 session and HTTP/2 streams.
#pragma once

#include <string_view>

#include "proxy/server/message_builder.h"
#include "proxy/server/proxy_counters.h"
#include "proxy/server/retry_state.h"
#include "proxy/server/stream.h"
#include "proxy/server/upstream_request.h"

namespace causeway::proxy {

struct Verdict {
  enum class Kind { kRetry, kReplay, kReply, kEnd };
  Kind kind = Kind::kEnd;
  int status = 0;
  std::string_view body;
  std::string_view flags;
  bool log = true;  // for kEnd
  // A header the reply carries besides the route's (local-refused,
  // tunnel-reset).
  const HeaderMutation* signal = nullptr;
};

// `x-causeway-fallback: local-refused`.
const HeaderMutation& LocalRefusedSignal();

// `x-causeway-fallback: tunnel-reset`.
const HeaderMutation& TunnelResetSignal();

// `answer` with the verdict's signal, if any, in the route table's place,
// which the laptop's and the holder's in-memory configurations leave empty.
Mutations WithSignal(Mutations answer, const Verdict& v);

Verdict FailureReply(int status, std::string_view body, std::string_view flags);

// A failed attempt: retried (RetryState decides), replayed on a fresh
// connection, answered locally, or the end of the request.
Verdict Judge(UpstreamRequest::Result r, const UpstreamRequest& attempt, RetryState& retry,
              StreamInfo& info, ProxyCounters& counters);

}  // namespace causeway::proxy
