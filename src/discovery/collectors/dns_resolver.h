// A blocking DNS stub resolver over glibc's libresolv (res_nquery), used
// because it reports every record's TTL (getaddrinfo hides them, and c-ares
// 1.18 drops the TTL of SRV records). One resolver per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

struct __res_state;

namespace causeway::discovery {

struct DnsAddress {
  std::string ip;  // textual IPv4 or IPv6 address
  uint32_t ttl = 0;
};

struct DnsSrv {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;
  uint32_t ttl = 0;
};

class DnsResolver {
 public:
  // `server` ("IP:PORT", IPv4) overrides the name servers of
  // /etc/resolv.conf; empty keeps them.
  static absl::StatusOr<std::unique_ptr<DnsResolver>> Create(std::string_view server);
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  // A and AAAA records of `host`. A name that does not exist or has no
  // address is an empty list (a definite answer); SERVFAIL, timeouts and
  // malformed answers are UNAVAILABLE.
  absl::StatusOr<std::vector<DnsAddress>> Addresses(const std::string& host);
  // SRV records of `name`, same conventions.
  absl::StatusOr<std::vector<DnsSrv>> Srv(const std::string& name);

 private:
  explicit DnsResolver(std::unique_ptr<struct __res_state> state);
  // Sends one query; nullopt for NXDOMAIN/NODATA, else the raw answer.
  absl::StatusOr<std::optional<std::vector<unsigned char>>> Query(const std::string& name,
                                                                  int type);

  std::unique_ptr<struct __res_state> state_;
};

}  // namespace causeway::discovery
