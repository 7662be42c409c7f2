#include "test_origin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "proxy/codec/http1.h"

namespace causeway::proxy::testing {
namespace {

bool SendAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    s.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads more bytes into `buf`; false on EOF, error or timeout.
bool ReadMore(int fd, std::string* buf) {
  char tmp[16384];
  ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
  if (n <= 0) return false;
  buf->append(tmp, static_cast<size_t>(n));
  return true;
}

// Decodes a complete chunked body (already validated by BodyFramer).
std::string Dechunk(std::string_view raw) {
  std::string out;
  while (true) {
    size_t eol = raw.find("\r\n");
    size_t size = std::stoul(std::string(raw.substr(0, eol)), nullptr, 16);
    raw.remove_prefix(eol + 2);
    if (size == 0) break;
    out.append(raw.substr(0, size));
    raw.remove_prefix(size + 2);
  }
  return out;
}

void SetTimeout(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

}  // namespace

TestOrigin::TestOrigin(std::string name, int forced_status)
    : name_(std::move(name)), forced_status_(forced_status) {
  Listen("127.0.0.1", 0);
}

TestOrigin::TestOrigin(std::string name, const std::string& ipv4, uint16_t port)
    : name_(std::move(name)) {
  Listen(ipv4, port);
}

void TestOrigin::Listen(const std::string& ipv4, uint16_t port) {
  ipv4_ = ipv4;
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  // So that StartListening() binds the port again while connections the
  // origin closed are in TIME_WAIT (an active listener still refuses it).
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, ipv4.c_str(), &addr.sin_addr);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    ::listen(listen_fd_, 128);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accepting_ = true;
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
}

TestOrigin::~TestOrigin() {
  stopping_ = true;
  ReleaseHeld();
  {
    std::lock_guard<std::mutex> lock(switch_mu_);  // no waiter misses it
  }
  delay_cv_.notify_all();
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
}

void TestOrigin::ReleaseHeld() {
  std::lock_guard<std::mutex> lock(hold_mu_);
  ++hold_generation_;
  hold_cv_.notify_all();
}

void TestOrigin::AcceptLoop() {
  while (!stopping_) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_ || !accepting_) return;
      continue;
    }
    int id = ++connections_;
    ++open_;
    std::lock_guard<std::mutex> lock(mu_);
    fds_.push_back(fd);
    live_fds_.insert(fd);
    threads_.emplace_back([this, fd, id] { Serve(fd, id); });
  }
}

void TestOrigin::Serve(int fd, int conn_id) {
  std::string buf;
  while (!stopping_) {
    bool too_large = false;
    size_t head_size = http1::FindHeadEnd(buf, &too_large);
    if (head_size == 0) {
      if (!ReadMore(fd, &buf)) break;
      continue;
    }
    std::string head = buf.substr(0, head_size);
    buf.erase(0, head_size);
    http1::RequestHead req;
    if (http1::ParseRequestHead(head, &req).status != http1::ParseStatus::kOk) break;
    ++requests_;
    http1::BodyFramer framer(req.body, req.content_length);
    std::string body;
    bool ok = true;
    while (!framer.done()) {
      auto step = framer.Feed(buf);
      body.append(buf, 0, step.consumed);
      buf.erase(0, step.consumed);
      if (step.error) {
        ok = false;
        break;
      }
      if (!framer.done() && !ReadMore(fd, &buf)) {
        ok = false;
        break;
      }
    }
    if (!ok) break;
    if (req.body == http1::BodyKind::kChunked) body = Dechunk(body);
    std::string common =
        "x-origin: " + name_ + "\r\nx-origin-conn: " + std::to_string(conn_id) + "\r\n";
    std::string target(req.target);
    std::string response;
    if (int forced = ForcedStatusFor(target); forced != 0) {
      response =
          "HTTP/1.1 " + std::to_string(forced) + " X\r\n" + common + "content-length: 0\r\n\r\n";
    } else if (target.rfind("/status/", 0) == 0) {
      std::string code = target.substr(8, 3);
      response = "HTTP/1.1 " + code + " X\r\n" + common + "content-length: 0\r\n\r\n";
    } else if (target.rfind("/delay/", 0) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(target.substr(7))));
      response = "HTTP/1.1 200 OK\r\n" + common + "content-length: 4\r\n\r\nslow";
    } else if (target == "/hold") {
      {
        std::unique_lock<std::mutex> lock(hold_mu_);
        uint64_t generation = hold_generation_;
        ++held_;
        hold_cv_.wait(lock, [&] { return hold_generation_ != generation; });
        --held_;
      }
      response = "HTTP/1.1 200 OK\r\n" + common + "content-length: 4\r\n\r\nheld";
    } else if (target == "/chunked") {
      response = "HTTP/1.1 200 OK\r\n" + common +
                 "transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    } else if (target.rfind("/big/", 0) == 0) {
      size_t n = std::stoul(target.substr(5));
      response = "HTTP/1.1 200 OK\r\n" + common + "content-length: " + std::to_string(n) +
                 "\r\n\r\n" + std::string(n, 'x');
    } else if (target == "/ws" && req.upgrade) {
      SendAll(fd,
              "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: "
              "upgrade\r\n\r\n");
      if (!buf.empty()) SendAll(fd, buf);
      while (true) {
        std::string chunk;
        if (!ReadMore(fd, &chunk)) break;
        if (!SendAll(fd, chunk)) break;
      }
      break;
    } else {
      std::string echo = std::string(req.method) + " " + target + "\n";
      for (const auto& h : req.headers) {
        echo += std::string(h.name) + ": " + std::string(h.value) + "\n";
      }
      echo += "\n" + body;
      response = "HTTP/1.1 200 OK\r\n" + common +
                 "content-type: text/plain\r\ncontent-length: " + std::to_string(echo.size()) +
                 "\r\n\r\n" + echo;
    }
    WaitDelay();
    if (!SendAll(fd, response)) break;
    if (!req.keep_alive || target == "/then-close") break;
  }
  {
    // Under the lock, so that StopListening() never shuts down a number
    // the kernel has given to another socket since.
    std::lock_guard<std::mutex> lock(mu_);
    live_fds_.erase(fd);
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }
  --open_;
}

int TestOrigin::ForcedStatusFor(const std::string& target) {
  const int status = forced_status_.load();
  if (status == 0) return 0;
  std::lock_guard<std::mutex> lock(switch_mu_);
  return !spared_path_.empty() && target == spared_path_ ? 0 : status;
}

void TestOrigin::WaitDelay() {
  std::unique_lock<std::mutex> lock(switch_mu_);
  if (delay_.count() == 0) return;
  delay_cv_.wait_for(lock, delay_, [&] { return stopping_.load() || delay_.count() == 0; });
}

void TestOrigin::SetForcedStatus(int status, const std::string& spared_path) {
  std::lock_guard<std::mutex> lock(switch_mu_);
  spared_path_ = spared_path;
  forced_status_ = status;
}

void TestOrigin::SetDelay(std::chrono::milliseconds delay) {
  {
    std::lock_guard<std::mutex> lock(switch_mu_);
    delay_ = delay;
  }
  delay_cv_.notify_all();
}

void TestOrigin::StopListening() {
  accepting_ = false;
  ::shutdown(listen_fd_, SHUT_RDWR);  // wakes the acceptor's accept()
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  listen_fd_ = -1;
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : live_fds_) ::shutdown(fd, SHUT_RDWR);
}

bool TestOrigin::StartListening() {
  if (accepting_) return true;
  const uint16_t port = port_;
  port_ = 0;
  Listen(ipv4_, port);
  if (port_ != 0) return true;
  ::close(listen_fd_);
  listen_fd_ = -1;
  port_ = port;  // still the origin's address to the proxy
  return false;
}

RawClient::RawClient(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return;
  }
  SetTimeout(fd, 5000);
  fd_ = fd;
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::Send(const std::string& bytes) { return fd_ >= 0 && SendAll(fd_, bytes); }

bool RawClient::Fill() { return ReadMore(fd_, &buf_); }

std::string RawClient::Response::Header(const std::string& name) const {
  std::string lower_head;
  for (char c : head) lower_head.push_back(static_cast<char>(std::tolower(c)));
  std::string key = "\r\n" + name + ":";
  size_t pos = lower_head.find(key);
  if (pos == std::string::npos) return "";
  size_t start = pos + key.size();
  size_t end = head.find("\r\n", start);
  std::string v = head.substr(start, end - start);
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  return v;
}

RawClient::Response RawClient::Read(bool head_request) {
  Response r;
  if (fd_ < 0) return r;
  while (true) {
    bool too_large = false;
    size_t n = http1::FindHeadEnd(buf_, &too_large);
    if (n == 0) {
      if (!Fill()) {
        r.closed_after = true;
        return r;
      }
      continue;
    }
    r.head = buf_.substr(0, n);
    buf_.erase(0, n);
    http1::ResponseHead h;
    if (http1::ParseResponseHead(r.head, head_request, &h).status != http1::ParseStatus::kOk) {
      return r;
    }
    http1::BodyFramer framer(h.body, h.content_length);
    std::string raw;
    while (!framer.done()) {
      auto step = framer.Feed(buf_);
      raw.append(buf_, 0, step.consumed);
      buf_.erase(0, step.consumed);
      if (step.error) return r;
      if (!framer.done() && !Fill()) {
        if (h.body != http1::BodyKind::kUntilClose) return r;
        break;
      }
    }
    r.status = h.status;
    r.body = h.body == http1::BodyKind::kChunked ? Dechunk(raw) : raw;
    return r;
  }
}

bool RawClient::WaitClosed(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
    char tmp[4096];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return true;
    buf_.append(tmp, static_cast<size_t>(n));
  }
  return false;
}

std::string RawClient::ReadSome() {
  if (buf_.empty()) Fill();
  std::string out;
  out.swap(buf_);
  return out;
}

RawClient::Response Request(uint16_t port, const std::string& raw) {
  RawClient c(port);
  c.Send(raw);
  return c.Read();
}

}  // namespace causeway::proxy::testing
