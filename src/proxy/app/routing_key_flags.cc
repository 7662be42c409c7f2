#include "proxy/app/routing_key_flags.h"

#include <chrono>

#include "common/time_source.h"

namespace causeway::proxy {

void AddRoutingKeyFlags(CLI::App& app, RoutingKeyFlags* f) {
  app.add_option("--routing-key", f->routing_key,
                 "Routing key this proxy adds as x-causeway-key to every request that carries "
                 "none (no x-causeway-key header, baggage entry or cookie causeway-key): the "
                 "sidecar of a developer's laptop, so its service's calls into staging come "
                 "back to it. 1 to 32 of A-Z a-z 0-9 . _ -")
      ->envname("CAUSEWAY_ROUTING_KEY")
      ->check(CLI::Validator(
          [](const std::string& value) -> std::string {
            if (IsRoutingKey(value)) return {};
            return "\"" + value + "\" is not a routing key (1 to 32 of A-Z a-z 0-9 . _ -)";
          },
          "KEY"));
  app.add_option("--key-memory-entries", f->memory_entries,
                 "Traces whose routing key this proxy remembers (from requests that carried a "
                 "key and a traceparent, x-b3-traceid or x-request-id), so that later requests "
                 "of the same trace without a key get it back; the least recently seen are "
                 "forgotten first (0: remember none)")
      ->envname("CAUSEWAY_KEY_MEMORY_ENTRIES")
      ->check(CLI::Range(int64_t{0}, int64_t{10000000}))
      ->capture_default_str();
  app.add_option("--key-memory-ms", f->memory_ms,
                 "How long a remembered trace's key lasts without a request of that trace")
      ->envname("CAUSEWAY_KEY_MEMORY_MS")
      ->check(CLI::Range(int64_t{1}, int64_t{86400000}))
      ->capture_default_str();
}

RoutingKeyStamper::Options StamperOptions(const RoutingKeyFlags& flags) {
  RoutingKeyStamper::Options o;
  o.routing_key = flags.routing_key;
  o.memory.max_entries = static_cast<size_t>(flags.memory_entries);
  o.memory.ttl = std::chrono::milliseconds(flags.memory_ms);
  return o;
}

nlohmann::json RoutingKeysPage(const RoutingKeyStamper& stamper) {
  constexpr size_t kShown = 100;
  const auto now = RealTime::Instance().Monotonic();
  nlohmann::json traces = nlohmann::json::array();
  for (const TraceKeyMemory::Entry& e : stamper.memory().Recent(kShown)) {
    // The memory's keys start with the kind of id (routing_key_stamp.h).
    const bool trace = !e.trace_id.empty() && e.trace_id[0] == 't';
    traces.push_back(
        {{trace ? "trace_id" : "request_id", e.trace_id.substr(1)},
         {"key", e.key},
         {"expires_in_ms",
          std::chrono::duration_cast<std::chrono::milliseconds>(e.expires - now).count()}});
  }
  return {{"routing_key", stamper.routing_key()},
          {"entries", stamper.memory().size()},
          {"traces", traces}};
}

void AddRoutingKeyStats(const RoutingKeyStamper& stamper, std::map<std::string, double>* stats) {
  const RoutingKeyStamper::Counters c = stamper.counters();
  (*stats)["routing_key.stamped_by_env"] = static_cast<double>(c.stamped_by_env);
  (*stats)["routing_key.stamped_by_trace"] = static_cast<double>(c.stamped_by_trace);
  (*stats)["routing_key.remembered"] = static_cast<double>(c.remembered);
  (*stats)["routing_key.evicted"] = static_cast<double>(c.evicted);
  (*stats)["routing_key.expired"] = static_cast<double>(c.expired);
  (*stats)["routing_key.memory_entries"] = static_cast<double>(stamper.memory().size());
}

}  // namespace causeway::proxy
