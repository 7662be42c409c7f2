#include "proxy/upstream/dns_lookup.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace causeway::proxy {

absl::Status ParseDnsServer(std::string_view server_view, std::string* ip, int* port) {
  // Abseil's string_view is its own type here.
  const std::string server(server_view);
  const size_t colon = server.rfind(':');
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("DNS server must be IPv4:PORT, got \"", server, "\""));
  };
  if (colon == std::string::npos) return bad();
  std::string host = server.substr(0, colon);
  int p = 0;
  in_addr addr{};
  if (!absl::SimpleAtoi(absl::string_view(server).substr(colon + 1), &p) || p <= 0 || p > 65535 ||
      inet_pton(AF_INET, host.c_str(), &addr) != 1) {
    return bad();
  }
  *ip = std::move(host);
  *port = p;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<DnsLookup>> DnsLookup::Create(std::string_view server) {
  if (server.empty()) return std::unique_ptr<DnsLookup>(new DnsLookup(nullptr));
  std::string ip;
  int port = 0;
  if (absl::Status s = ParseDnsServer(server, &ip, &port); !s.ok()) return s;
  auto state = std::make_unique<struct __res_state>();
  std::memset(state.get(), 0, sizeof(struct __res_state));
  if (res_ninit(state.get()) != 0) {
    return absl::UnavailableError("res_ninit failed (is /etc/resolv.conf readable?)");
  }
  // Seconds per try, and tries: a refresh comes round again anyway, and a
  // slow server must not hold the other names' refreshes for long.
  state->retrans = 1;
  state->retry = 2;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  // glibc uses nsaddr_list[i] whenever its family is set (get_nsaddr in
  // res_send.c), so this replaces resolv.conf's servers for this state only.
  state->nsaddr_list[0] = addr;
  state->nscount = 1;
  return std::unique_ptr<DnsLookup>(new DnsLookup(std::move(state)));
}

DnsLookup::DnsLookup(std::unique_ptr<struct __res_state> state) : state_(std::move(state)) {}

DnsLookup::~DnsLookup() {
  if (state_ != nullptr) res_nclose(state_.get());
}

absl::StatusOr<std::vector<std::string>> DnsLookup::Addresses(const std::string& host) {
  absl::StatusOr<std::vector<std::string>> out =
      state_ != nullptr ? FromServer(host) : FromSystem(host);
  if (!out.ok()) return out;
  // IPv4 first, each family in text order, once each: equal sets compare
  // equal, so a refresh that finds the same addresses changes nothing.
  auto v6 = [](const std::string& a) { return a.find(':') != std::string::npos; };
  std::sort(out->begin(), out->end(), [&](const std::string& a, const std::string& b) {
    return v6(a) != v6(b) ? !v6(a) : a < b;
  });
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return out;
}

absl::StatusOr<std::vector<std::string>> DnsLookup::FromSystem(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &result);
  std::vector<std::string> out;
  if (rc == EAI_NONAME || rc == EAI_NODATA) return out;
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("resolve ", host, ": ", gai_strerror(rc)));
  }
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {0};
    if (ai->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, text,
                sizeof(text));
    } else if (ai->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, text,
                sizeof(text));
    } else {
      continue;
    }
    out.emplace_back(text);
  }
  ::freeaddrinfo(result);
  return out;
}

absl::StatusOr<std::vector<std::string>> DnsLookup::FromServer(const std::string& host) {
  std::vector<std::string> out;
  std::vector<unsigned char> answer(65536);
  for (int type : {ns_t_a, ns_t_aaaa}) {
    const int n = res_nquery(state_.get(), host.c_str(), ns_c_in, type, answer.data(),
                             static_cast<int>(answer.size()));
    if (n < 0) {
      const int err = state_->res_h_errno;
      if (err == HOST_NOT_FOUND || err == NO_DATA) continue;  // a definite answer
      return absl::UnavailableError(
          absl::StrCat("DNS query for ", host, " failed: ", hstrerror(err)));
    }
    ns_msg msg;
    if (ns_initparse(answer.data(), n, &msg) != 0) {
      return absl::UnavailableError(absl::StrCat("malformed DNS answer for ", host));
    }
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
      ns_rr rr;
      if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) {
        return absl::UnavailableError(absl::StrCat("malformed DNS record for ", host));
      }
      if (ns_rr_type(rr) != type) continue;  // CNAMEs on the way
      const int family = type == ns_t_a ? AF_INET : AF_INET6;
      const size_t size = type == ns_t_a ? 4 : 16;
      if (ns_rr_rdlen(rr) != size) {
        return absl::UnavailableError(absl::StrCat("malformed address record for ", host));
      }
      char text[INET6_ADDRSTRLEN] = {0};
      inet_ntop(family, ns_rr_rdata(rr), text, sizeof(text));
      out.emplace_back(text);
    }
  }
  return out;
}

}  // namespace causeway::proxy
