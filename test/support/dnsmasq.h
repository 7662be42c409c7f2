// A dnsmasq (Debian's dnsmasq-base) answering on 127.0.0.1:PORT from a hosts
// file in a test's directory: authoritative for *.test (other names there are
// NXDOMAIN), TTL 1 s, re-reading the hosts file on SIGHUP. Waiting until it
// answers is the caller's, with the resolver under test.
#pragma once

#include <memory>
#include <string>

#include "support/process.h"

namespace causeway::testing {

class Dnsmasq {
 public:
  static constexpr char kPath[] = "/usr/sbin/dnsmasq";

  // Files live in `dir`: hosts, dnsmasq.conf (extra options, empty at first)
  // and dnsmasq.log.
  Dnsmasq(std::string dir, int port);
  ~Dnsmasq() { Stop(); }

  void Start();
  void Stop();
  // A new hosts file, re-read at once.
  void SetHosts(const std::string& text);

  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }
  std::string Log() const { return process_ ? process_->Log() : ""; }

 private:
  const std::string dir_;
  const int port_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace causeway::testing
