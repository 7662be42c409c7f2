// Every address of a host name, looked up synchronously: what the STRICT_DNS
// resolver thread (strict_dns.h) asks, never a worker. One object per
// thread.
//
// Two ways to ask:
//   - the system's resolver (getaddrinfo): /etc/hosts, /etc/resolv.conf and
//     nsswitch, as the per-connect lookup of LOGICAL_DNS clusters does;
//   - one DNS server, "IP:PORT" (causeway-proxy --dns-server), asked for A
//     and AAAA records with glibc's res_nquery on a private resolver state
//     (the same technique as the discovery module's DNS collector; the
//     proxy may not use that module, see docs/architecture.md).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

struct __res_state;

namespace causeway::proxy {

// Checks "IPv4:PORT" (port 1..65535); the error names what is wrong.
absl::Status ParseDnsServer(std::string_view server, std::string* ip, int* port);

class DnsLookup {
 public:
  // `server` empty: the system's resolver; otherwise "IPv4:PORT".
  static absl::StatusOr<std::unique_ptr<DnsLookup>> Create(std::string_view server);
  ~DnsLookup();
  DnsLookup(const DnsLookup&) = delete;
  DnsLookup& operator=(const DnsLookup&) = delete;

  // The IPv4 and IPv6 addresses of `host` as text, IPv4 first, each family
  // sorted, without duplicates. An empty list is a definite answer (the name
  // does not exist or has no address); UNAVAILABLE means no answer (timeout,
  // SERVFAIL, refused, malformed).
  absl::StatusOr<std::vector<std::string>> Addresses(const std::string& host);

 private:
  explicit DnsLookup(std::unique_ptr<struct __res_state> state);
  absl::StatusOr<std::vector<std::string>> FromServer(const std::string& host);
  absl::StatusOr<std::vector<std::string>> FromSystem(const std::string& host);

  std::unique_ptr<struct __res_state> state_;  // null: the system's resolver
};

}  // namespace causeway::proxy
