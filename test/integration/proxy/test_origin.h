// A small HTTP/1.1 origin for the proxy's integration tests, on a loopback
// port chosen by the kernel. One thread per connection; behaviour is picked
// by path:
//   /status/NNN   respond NNN
//   /delay/MS     respond 200 after MS milliseconds (a slow upstream)
//   /hold         respond 200 once the test calls ReleaseHeld()
//   /then-close   respond 200 (keep-alive as far as the headers say), then
//                 close the connection
//   /chunked      a chunked response
//   /big/N        N bytes of 'x'
//   /ws           101 Switching Protocols, then echo bytes
//   anything else echo: the request line, headers and body as text
// Every response carries x-origin (the origin's name) and x-origin-conn
// (the connection's number) so tests can observe balancing and reuse.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace causeway::proxy::testing {

class TestOrigin {
 public:
  // A non-zero `forced_status` answers every request with it (a sick origin).
  explicit TestOrigin(std::string name, int forced_status = 0);
  // On a given IPv4 address of the loopback network (127.0.0.0/8) and port
  // (0: one the kernel picks), e.g. two origins behind one host name.
  TestOrigin(std::string name, const std::string& ipv4, uint16_t port);
  ~TestOrigin();
  uint16_t port() const { return port_; }
  // False if the address or port could not be bound.
  bool listening() const { return port_ != 0; }
  const std::string& name() const { return name_; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  // Connections not yet closed (by either side).
  int open_connections() const { return open_.load(); }
  // Requests to /hold waiting now, and letting them all go.
  int held() const { return held_.load(); }
  void ReleaseHeld();

  // Switches a test turns while traffic flows (a bad day for the origin).
  // Answer every request with `status` from now on (0: behave again),
  // except requests for `spared_path` (e.g. "/healthz": a sick origin whose
  // health endpoint still says it is fine).
  void SetForcedStatus(int status, const std::string& spared_path = "");
  // Hold every response `delay` before sending it (zero: answer at once,
  // releasing the responses being held).
  void SetDelay(std::chrono::milliseconds delay);
  // Close the listening socket and every open connection, as a killed
  // process would: connects are refused from now on.
  void StopListening();
  // Listen again on the same port; false if it could not be bound.
  bool StartListening();

 private:
  void Listen(const std::string& ipv4, uint16_t port);
  void AcceptLoop();
  void Serve(int fd, int conn_id);
  int ForcedStatusFor(const std::string& target);
  void WaitDelay();

  std::string name_;
  std::atomic<int> forced_status_{0};
  std::mutex switch_mu_;
  std::string spared_path_;             // guarded by switch_mu_
  std::chrono::milliseconds delay_{0};  // guarded by switch_mu_
  std::condition_variable delay_cv_;
  std::string ipv4_ = "127.0.0.1";
  std::atomic<bool> accepting_{false};
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> open_{0};
  std::atomic<int> held_{0};
  std::mutex hold_mu_;
  std::condition_variable hold_cv_;
  uint64_t hold_generation_ = 0;  // guarded by hold_mu_
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> threads_;
  std::vector<int> fds_;
  std::set<int> live_fds_;  // connections not yet closed; guarded by mu_
};

// A blocking client connection with a receive deadline.
class RawClient {
 public:
  explicit RawClient(uint16_t port);
  ~RawClient();
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool Send(const std::string& bytes);

  struct Response {
    int status = 0;  // 0: the connection closed or timed out first
    std::string head;
    std::string body;  // decoded if chunked
    bool closed_after = false;
    std::string Header(const std::string& name) const;  // "" if absent
  };
  // Reads one response (interim 1xx responses included when `interim`).
  Response Read(bool head_request = false);
  // True if the peer closes the connection before `timeout_ms`.
  bool WaitClosed(int timeout_ms = 5000);
  std::string ReadSome();  // raw bytes available (tunnels)

 private:
  bool Fill();
  int fd_ = -1;
  std::string buf_;
};

// One request on a fresh connection.
RawClient::Response Request(uint16_t port, const std::string& raw);

}  // namespace causeway::proxy::testing
