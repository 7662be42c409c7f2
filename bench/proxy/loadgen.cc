// causeway_bench_loadgen: an open-loop HTTP/1.1 load generator for
// bench/proxy/run (Debian has wrk but not wrk2).
//
// Latency mode sends GETs on a fixed schedule (request i is due at
// start + i/rate) over keep-alive connections, one request in flight per
// connection. A request's latency runs from the time it was due, not from when
// a connection became free, so a stall shows up in the percentiles instead of
// silently lowering the rate (coordinated omission).
//
//   causeway_bench_loadgen --target 127.0.0.1:8080 --path /100b --rate 2000
//       --duration 10 [--warmup 2] [--connections 16]
//   -> target=127.0.0.1:8080 rate=2000 sent=20000 ok=20000 errors=0 achieved=1999.9
//      p50_us=.. p99_us=.. p999_us=.. max_us=..
//
// Several --target flags measure them at the same time, each at --rate over
// its own --connections, their requests interleaved evenly (target k's are due
// k/(rate*targets) after the first's): whatever stalls the machine meanwhile
// (the host descheduling a vCPU, another process) lands on every target
// alike, so their percentiles can be compared within one run. One line each.
//
// --alternate MS drives the targets one at a time instead, each at --rate
// for MS milliseconds in turn (so the run lasts targets times as long): no
// target competes with another for the CPUs or for a shared origin, while the
// slices are short enough that every target meets the same machine.
//
// --samples FILE writes every measured request (target index, due time and
// latency in µs) for lining up a run's tail across targets.
//
// Hold mode opens N keep-alive connections, makes one request on each so the
// peer has really accepted and served them, then keeps them idle until
// SIGTERM/SIGINT; it prints "held N" once they are all up.
//
//   causeway_bench_loadgen --target 127.0.0.1:8080 --path /100b --hold 10000
//
// Single-threaded epoll with a timerfd for the schedule: no busy polling, so
// it takes as little CPU as possible from the 2-core machine it shares with
// the proxies under test.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Nanos = int64_t;

Nanos Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Nanos>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Endpoint {
  std::string host;
  int port = 0;
};

struct Options {
  std::vector<Endpoint> targets;
  std::string path = "/";
  double rate = 1000;
  double duration_s = 10;
  double warmup_s = 2;
  int connections = 16;
  int hold = 0;
  std::string samples_file;  // --samples: every measured request, for looking into a run
  double alternate_ms = 0;   // --alternate: one target at a time, switching every that long
};

struct Conn {
  int fd = -1;
  bool busy = false;
  bool connected = false;
  Nanos due = 0;  // when the request in flight was scheduled
  std::string in;
};

int Connect(const Endpoint& e) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(e.port));
  inet_pton(AF_INET, e.host.c_str(), &sa.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Length of the first complete response in `buf`, 0 if incomplete, -1 if it
// cannot be framed (the peers under test all send Content-Length for these
// static files; anything else is counted as an error).
ssize_t ResponseLength(std::string_view buf) {
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  std::string_view head = buf.substr(0, end + 2);
  size_t pos = head.find("\r\n") + 2;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos &&
        EqualsIgnoreCase(line.substr(0, colon), "content-length")) {
      size_t len = std::strtoull(std::string(line.substr(colon + 1)).c_str(), nullptr, 10);
      size_t total = end + 4 + len;
      return buf.size() >= total ? static_cast<ssize_t>(total) : 0;
    }
    pos = eol + 2;
  }
  return -1;
}

bool IsOk(std::string_view buf) { return buf.substr(0, 13) == "HTTP/1.1 200 "; }

// Reads what is available; false on EOF or error.
bool ReadSome(Conn& c) {
  char tmp[65536];
  while (true) {
    ssize_t n = read(c.fd, tmp, sizeof(tmp));
    if (n > 0) {
      c.in.append(tmp, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EAGAIN) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

bool Send(Conn& c, const std::string& request) {
  ssize_t n = write(c.fd, request.data(), request.size());
  // A request this small always fits an empty socket buffer of a kept-alive
  // connection with nothing in flight; a short write means the peer is gone.
  return n == static_cast<ssize_t>(request.size());
}

Nanos Percentile(std::vector<Nanos>& v, double p) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(i), v.end());
  return v[i];
}

std::string RequestFor(const Endpoint& e, const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: " + e.host + ":" + std::to_string(e.port) +
         "\r\nUser-Agent: causeway-bench\r\n\r\n";
}

// One target of a latency run: its connections, its queue of due requests
// and its samples.
struct TargetRun {
  Endpoint endpoint;
  std::string request;
  std::vector<Conn> conns;
  std::deque<size_t> idle;
  std::deque<Nanos> pending;  // due requests waiting for a free connection
  std::vector<Nanos> samples;
  std::vector<Nanos> sample_due;  // when each sample's request was due
  uint64_t sent = 0, ok = 0, errors = 0;
  int in_flight = 0;
};

// One line per measured request: target index, due time (µs since the
// start) and latency (µs), so a run's tail can be lined up across targets.
void WriteSamples(const std::string& path, const std::vector<TargetRun>& targets, Nanos start) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    std::fprintf(stderr, "--samples %s: %s\n", path.c_str(), std::strerror(errno));
    return;
  }
  for (size_t ti = 0; ti < targets.size(); ++ti) {
    const TargetRun& t = targets[ti];
    for (size_t i = 0; i < t.samples.size(); ++i) {
      std::fprintf(f, "%zu %.1f %.1f\n", ti, (t.sample_due[i] - start) / 1e3, t.samples[i] / 1e3);
    }
  }
  std::fclose(f);
}

// epoll keys: target index in the high half, connection index in the low.
uint64_t Key(size_t target, size_t conn) { return (static_cast<uint64_t>(target) << 32) | conn; }

bool AddConnection(int ep, TargetRun& t, size_t target, size_t idx) {
  Conn& c = t.conns[idx];
  c.fd = Connect(t.endpoint);
  if (c.fd < 0) return false;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = Key(target, idx);
  epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  t.idle.push_back(idx);
  return true;
}

void Dispatch(TargetRun& t, Nanos measure_from) {
  while (!t.pending.empty() && !t.idle.empty()) {
    Conn& c = t.conns[t.idle.front()];
    t.idle.pop_front();
    c.due = t.pending.front();
    t.pending.pop_front();
    if (!Send(c, t.request)) {
      ++t.errors;
      continue;  // a dead connection is not reused
    }
    c.busy = true;
    ++t.in_flight;
    if (c.due >= measure_from) ++t.sent;
  }
}

// Reads from connection `idx` of target `ti`; completes its response and
// replaces it if it closed, so the rate holds.
void OnReadable(int ep, TargetRun& t, size_t ti, size_t idx, Nanos measure_from) {
  Conn& c = t.conns[idx];
  bool alive = ReadSome(c);
  while (c.busy) {
    ssize_t len = ResponseLength(c.in);
    if (len == 0) break;
    Nanos done = Now();
    c.busy = false;
    --t.in_flight;
    if (len < 0 || !IsOk(c.in)) {
      ++t.errors;
      alive = false;
      break;
    }
    if (c.due >= measure_from) {
      ++t.ok;
      t.samples.push_back(done - c.due);
      t.sample_due.push_back(c.due);
    }
    c.in.erase(0, static_cast<size_t>(len));
    t.idle.push_back(idx);
  }
  if (alive) return;
  if (c.busy) {
    ++t.errors;
    --t.in_flight;
  }
  epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
  close(c.fd);
  c.busy = false;
  c.in.clear();
  t.idle.erase(std::remove(t.idle.begin(), t.idle.end(), idx), t.idle.end());
  AddConnection(ep, t, ti, idx);
}

int RunLatency(const Options& o) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  epoll_event tev{};
  tev.events = EPOLLIN;
  tev.data.u64 = UINT64_MAX;
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);

  std::vector<TargetRun> targets(o.targets.size());
  for (size_t ti = 0; ti < targets.size(); ++ti) {
    TargetRun& t = targets[ti];
    t.endpoint = o.targets[ti];
    t.request = RequestFor(t.endpoint, o.path);
    t.conns.resize(static_cast<size_t>(o.connections));
    t.samples.reserve(static_cast<size_t>(o.rate * o.duration_s * 1.1) + 16);
    for (size_t i = 0; i < t.conns.size(); ++i) {
      if (!AddConnection(ep, t, ti, i)) {
        std::fprintf(stderr, "connect failed: %s\n", std::strerror(errno));
        return 1;
      }
    }
  }

  // One schedule for all targets. Together: request j goes to target
  // j % targets. Alternating: every request of a slice goes to that slice's
  // target, at the full rate, and the run lasts targets times as long, so each
  // target gets the same warmup, duration and number of requests.
  const double n_targets = static_cast<double>(targets.size());
  const bool alternate = o.alternate_ms > 0;
  const Nanos interval = static_cast<Nanos>(1e9 / (alternate ? o.rate : o.rate * n_targets));
  const Nanos slice = static_cast<Nanos>(o.alternate_ms * 1e6);
  const double span = alternate ? n_targets : 1.0;
  const Nanos start = Now() + 100000000;  // let the connects finish
  const Nanos measure_from = start + static_cast<Nanos>(o.warmup_s * span * 1e9);
  const Nanos stop_sending = measure_from + static_cast<Nanos>(o.duration_s * span * 1e9);
  Nanos next_due = start;
  uint64_t next_index = 0;
  auto target_of = [&](Nanos due) -> TargetRun& {
    size_t ti = alternate ? static_cast<size_t>((due - start) / slice) : next_index;
    ++next_index;
    return targets[ti % targets.size()];
  };

  auto arm = [&](Nanos at) {
    itimerspec its{};
    its.it_value.tv_sec = at / 1000000000;
    its.it_value.tv_nsec = at % 1000000000;
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, nullptr);
  };
  auto idle_all = [&] {
    for (const TargetRun& t : targets)
      if (t.in_flight > 0 || !t.pending.empty()) return false;
    return true;
  };

  arm(next_due);
  epoll_event events[256];
  Nanos drain_deadline = 0;
  while (true) {
    Nanos now = Now();
    if (next_due < stop_sending) {
      while (next_due <= now && next_due < stop_sending) {
        target_of(next_due).pending.push_back(next_due);
        next_due += interval;
      }
      for (TargetRun& t : targets) Dispatch(t, measure_from);
      if (next_due < stop_sending) arm(next_due);
    } else {
      if (drain_deadline == 0) drain_deadline = now + 2000000000;
      if (idle_all() || now > drain_deadline) break;
      arm(now + 10000000);
    }
    int n = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == UINT64_MAX) {
        uint64_t expirations;
        [[maybe_unused]] ssize_t r = read(tfd, &expirations, sizeof(expirations));
        continue;
      }
      size_t ti = events[i].data.u64 >> 32;
      size_t idx = events[i].data.u64 & 0xffffffffu;
      OnReadable(ep, targets[ti], ti, idx, measure_from);
      Dispatch(targets[ti], measure_from);
    }
  }
  if (!o.samples_file.empty()) WriteSamples(o.samples_file, targets, start);
  for (TargetRun& t : targets) {
    t.errors += static_cast<uint64_t>(t.in_flight) + t.pending.size();
    double achieved = static_cast<double>(t.ok) / o.duration_s;
    Nanos p50 = Percentile(t.samples, 0.50), p99 = Percentile(t.samples, 0.99);
    Nanos p999 = Percentile(t.samples, 0.999);
    Nanos max = t.samples.empty() ? 0 : *std::max_element(t.samples.begin(), t.samples.end());
    std::printf(
        "target=%s:%d rate=%.0f sent=%llu ok=%llu errors=%llu achieved=%.1f p50_us=%.1f "
        "p99_us=%.1f p999_us=%.1f max_us=%.1f\n",
        t.endpoint.host.c_str(), t.endpoint.port, o.rate, static_cast<unsigned long long>(t.sent),
        static_cast<unsigned long long>(t.ok), static_cast<unsigned long long>(t.errors), achieved,
        p50 / 1e3, p99 / 1e3, p999 / 1e3, max / 1e3);
  }
  return 0;
}

volatile sig_atomic_t g_stop = 0;
void OnStop(int) { g_stop = 1; }

int RunHold(const Options& o) {
  const Endpoint& target = o.targets.front();
  const std::string request = RequestFor(target, o.path);
  // Connects in waves so the listen backlog of the server under test never
  // overflows; each connection makes one request and then stays idle.
  std::vector<int> held;
  held.reserve(static_cast<size_t>(o.hold));
  int failures = 0;
  const int kWave = 250;
  while (static_cast<int>(held.size()) < o.hold && failures < 1000) {
    int want = std::min(kWave, o.hold - static_cast<int>(held.size()));
    std::vector<Conn> wave(static_cast<size_t>(want));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < want; ++i) {
      wave[i].fd = Connect(target);
      if (wave[i].fd < 0) {
        std::fprintf(stderr, "connect: %s\n", std::strerror(errno));
        return 1;
      }
      epoll_event ev{};
      ev.events = EPOLLOUT | EPOLLIN;
      ev.data.u64 = static_cast<uint64_t>(i);
      epoll_ctl(ep, EPOLL_CTL_ADD, wave[i].fd, &ev);
    }
    int remaining = want;
    Nanos deadline = Now() + 10000000000;
    epoll_event events[256];
    while (remaining > 0 && Now() < deadline) {
      int n = epoll_wait(ep, events, 256, 100);
      for (int e = 0; e < n; ++e) {
        Conn& c = wave[events[e].data.u64];
        if (c.fd < 0) continue;
        bool failed = (events[e].events & (EPOLLERR | EPOLLHUP)) != 0;
        if (!failed && !c.connected && (events[e].events & EPOLLOUT)) {
          c.connected = true;
          failed = !Send(c, request);
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u64 = events[e].data.u64;
          epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        } else if (!failed && (events[e].events & EPOLLIN)) {
          failed = !ReadSome(c);
          ssize_t len = ResponseLength(c.in);
          if (!failed && len > 0 && IsOk(c.in)) {
            epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
            held.push_back(c.fd);
            c.fd = -1;
            --remaining;
          } else if (len < 0) {
            failed = true;
          }
        }
        if (failed) {
          close(c.fd);
          c.fd = -1;
          --remaining;
          ++failures;
        }
      }
    }
    for (Conn& c : wave) {
      if (c.fd >= 0) {
        close(c.fd);
        ++failures;
      }
    }
    close(ep);
  }
  std::printf("held %zu failures %d\n", held.size(), failures);
  std::fflush(stdout);
  signal(SIGTERM, OnStop);
  signal(SIGINT, OnStop);
  while (!g_stop) pause();
  for (int fd : held) close(fd);
  return static_cast<int>(held.size()) == o.hold ? 0 : 1;
}

int Usage() {
  std::fprintf(stderr,
               "usage: causeway_bench_loadgen --target HOST:PORT [--target HOST:PORT ...] "
               "[--path P]\n"
               "         (--rate R [--duration S] [--warmup S] [--connections N] [--samples FILE]\n"
               "          [--alternate MS] | --hold N)\n"
               "  --rate is per target; --hold uses the first target\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) return Usage();
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--target") {
      size_t colon = value.rfind(':');
      if (colon == std::string::npos) return Usage();
      Endpoint e{value.substr(0, colon), std::atoi(value.c_str() + colon + 1)};
      if (e.port <= 0) return Usage();
      o.targets.push_back(e);
    } else if (flag == "--path") {
      o.path = value;
    } else if (flag == "--rate") {
      o.rate = std::atof(value.c_str());
    } else if (flag == "--duration") {
      o.duration_s = std::atof(value.c_str());
    } else if (flag == "--warmup") {
      o.warmup_s = std::atof(value.c_str());
    } else if (flag == "--connections") {
      o.connections = std::atoi(value.c_str());
    } else if (flag == "--alternate") {
      o.alternate_ms = std::atof(value.c_str());
    } else if (flag == "--samples") {
      o.samples_file = value;
    } else if (flag == "--hold") {
      o.hold = std::atoi(value.c_str());
    } else {
      return Usage();
    }
  }
  if (o.targets.empty() || o.rate <= 0 || o.connections <= 0) return Usage();
  signal(SIGPIPE, SIG_IGN);
  return o.hold > 0 ? RunHold(o) : RunLatency(o);
}
