#include "discovery/collectors/dns_resolver.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <cstring>

#include "common/status.h"
#include "common/strings.h"

namespace causeway::discovery {

absl::StatusOr<std::unique_ptr<DnsResolver>> DnsResolver::Create(std::string_view server) {
  auto state = std::make_unique<struct __res_state>();
  std::memset(state.get(), 0, sizeof(struct __res_state));
  if (res_ninit(state.get()) != 0) {
    return absl::UnavailableError("res_ninit failed (is /etc/resolv.conf readable?)");
  }
  state->retrans = 1;  // seconds per try: collectors retry on their own schedule
  state->retry = 2;
  if (!server.empty()) {
    const size_t colon = server.rfind(':');
    std::string ip(server.substr(0, colon));
    int port = 53;
    if (colon != std::string_view::npos) {
      port = std::atoi(std::string(server.substr(colon + 1)).c_str());
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
      res_nclose(state.get());
      return absl::InvalidArgumentError(
          ToAbsl(StrCat("DNS server must be IPv4:PORT, got \"", server, "\"")));
    }
    // glibc uses nsaddr_list[i] whenever its family is set (see get_nsaddr in
    // res_send.c), so this replaces resolv.conf's servers for this state only.
    state->nsaddr_list[0] = addr;
    state->nscount = 1;
  }
  return std::unique_ptr<DnsResolver>(new DnsResolver(std::move(state)));
}

DnsResolver::DnsResolver(std::unique_ptr<struct __res_state> state) : state_(std::move(state)) {}

DnsResolver::~DnsResolver() { res_nclose(state_.get()); }

absl::StatusOr<std::optional<std::vector<unsigned char>>> DnsResolver::Query(
    const std::string& name, int type) {
  std::vector<unsigned char> answer(65536);
  const int n = res_nquery(state_.get(), name.c_str(), ns_c_in, type, answer.data(),
                           static_cast<int>(answer.size()));
  if (n < 0) {
    switch (state_->res_h_errno) {
      case HOST_NOT_FOUND:
      case NO_DATA:
        return std::nullopt;
      default:
        return absl::UnavailableError(
            ToAbsl(StrCat("DNS query for ", name, " failed: ", hstrerror(state_->res_h_errno))));
    }
  }
  answer.resize(static_cast<size_t>(n));
  return answer;
}

namespace {

// Walks the answer section, calling `fn(rr)` for records of `type`.
template <typename Fn>
absl::Status ForEachAnswer(const std::vector<unsigned char>& answer, int type, ns_msg& msg, Fn fn) {
  if (ns_initparse(answer.data(), static_cast<int>(answer.size()), &msg) != 0) {
    return absl::UnavailableError("malformed DNS answer");
  }
  for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) {
      return absl::UnavailableError("malformed DNS answer record");
    }
    if (ns_rr_type(rr) == type) CW_RETURN_IF_ERROR(fn(rr));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<DnsAddress>> DnsResolver::Addresses(const std::string& host) {
  std::vector<DnsAddress> out;
  for (int type : {ns_t_a, ns_t_aaaa}) {
    auto answer = Query(host, type);
    if (!answer.ok()) return answer.status();
    if (!answer->has_value()) continue;
    ns_msg msg;
    CW_RETURN_IF_ERROR(ForEachAnswer(**answer, type, msg, [&](const ns_rr& rr) {
      const int family = type == ns_t_a ? AF_INET : AF_INET6;
      const size_t size = type == ns_t_a ? 4 : 16;
      if (ns_rr_rdlen(rr) != size) return absl::UnavailableError("malformed address record");
      char text[INET6_ADDRSTRLEN];
      inet_ntop(family, ns_rr_rdata(rr), text, sizeof(text));
      out.push_back(DnsAddress{text, ns_rr_ttl(rr)});
      return absl::OkStatus();
    }));
  }
  return out;
}

absl::StatusOr<std::vector<DnsSrv>> DnsResolver::Srv(const std::string& name) {
  std::vector<DnsSrv> out;
  auto answer = Query(name, ns_t_srv);
  if (!answer.ok()) return answer.status();
  if (!answer->has_value()) return out;
  ns_msg msg;
  CW_RETURN_IF_ERROR(ForEachAnswer(**answer, ns_t_srv, msg, [&](const ns_rr& rr) {
    if (ns_rr_rdlen(rr) < 7) return absl::UnavailableError("malformed SRV record");
    const unsigned char* rdata = ns_rr_rdata(rr);
    DnsSrv srv;
    srv.priority = ns_get16(rdata);
    srv.weight = ns_get16(rdata + 2);
    srv.port = ns_get16(rdata + 4);
    char target[NS_MAXDNAME];
    if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rdata + 6, target, sizeof(target)) < 0) {
      return absl::UnavailableError("malformed SRV target");
    }
    srv.target = target;
    srv.ttl = ns_rr_ttl(rr);
    out.push_back(std::move(srv));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace causeway::discovery
