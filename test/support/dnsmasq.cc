#include "support/dnsmasq.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>

namespace causeway::testing {

namespace {

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

}  // namespace

Dnsmasq::Dnsmasq(std::string dir, int port) : dir_(std::move(dir)), port_(port) {
  Write(File("hosts"), "");
  Write(File("dnsmasq.conf"), "");
}

void Dnsmasq::Start() {
  Subprocess::Options options;
  options.argv = {kPath,
                  "--no-daemon",
                  "--port=" + std::to_string(port_),
                  "--listen-address=127.0.0.1",
                  "--bind-interfaces",
                  "--no-resolv",
                  "--no-hosts",
                  "--local=/test/",  // authoritative: unknown names are NXDOMAIN
                  "--addn-hosts=" + File("hosts"),
                  "--conf-file=" + File("dnsmasq.conf"),
                  "--local-ttl=1",
                  "--pid-file=",
                  "--log-facility=-"};
  // As root dnsmasq would switch to "nobody", who cannot read the test's
  // private directory.
  if (getuid() == 0) options.argv.push_back("--user=root");
  options.log_path = File("dnsmasq.log");
  process_ = std::make_unique<Subprocess>(options);
}

void Dnsmasq::Stop() {
  if (process_) process_->Stop();
  process_.reset();
}

void Dnsmasq::SetHosts(const std::string& text) {
  Write(File("hosts"), text);
  if (process_) process_->Signal(SIGHUP);
}

}  // namespace causeway::testing
