// The Watchdog and SimulatedTime's timers: deadlines fire exactly when the
// simulated clock reaches them, not a tick before.
#include "proxy/server/watchdog.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/time_source.h"
#include "proxy/server/idle_list.h"

namespace causeway::proxy {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using std::chrono::milliseconds;

struct Fixture {
  SimulatedTime time;
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  tcp::socket socket{io};
  Fixture() { socket.connect(acceptor.local_endpoint()); }
  void Advance(milliseconds d) {
    time.Advance(d);
    io.restart();
    io.poll();
  }
};

TEST(SimulatedTime, FiresTimersWhenDueInDeadlineOrder) {
  SimulatedTime time;
  asio::io_context io;
  std::vector<int> fired;
  auto a = time.CreateTimer(io);
  auto b = time.CreateTimer(io);
  auto c = time.CreateTimer(io);
  const auto t0 = time.Monotonic();
  a->Schedule(t0 + milliseconds(30), [&] { fired.push_back(30); });
  b->Schedule(t0 + milliseconds(10), [&] { fired.push_back(10); });
  c->Schedule(t0 + milliseconds(20), [&] { fired.push_back(20); });
  c->Cancel();
  time.Advance(milliseconds(9));
  io.poll();
  EXPECT_TRUE(fired.empty());
  time.Advance(milliseconds(100));
  EXPECT_TRUE(fired.empty()) << "callbacks run on the io_context, not inside Advance";
  io.restart();
  io.poll();
  EXPECT_EQ(fired, (std::vector<int>{10, 30}));
  EXPECT_EQ(time.PendingTimers(), 0u);
}

TEST(SimulatedTime, RescheduledOrDestroyedTimersDoNotFire) {
  SimulatedTime time;
  asio::io_context io;
  int fired = 0;
  auto a = time.CreateTimer(io);
  a->Schedule(time.Monotonic() + milliseconds(5), [&] { fired += 1; });
  a->Schedule(time.Monotonic() + milliseconds(50), [&] { fired += 10; });
  auto b = time.CreateTimer(io);
  b->Schedule(time.Monotonic() + milliseconds(5), [&] { fired += 100; });
  time.Advance(milliseconds(5));
  b.reset();  // due and posted, then gone before the io_context ran it
  io.poll();
  EXPECT_EQ(fired, 0);
  std::chrono::steady_clock::time_point next;
  ASSERT_TRUE(time.NextDeadline(&next));
  EXPECT_EQ(next - time.Monotonic(), milliseconds(45));
  time.Advance(milliseconds(45));
  io.restart();
  io.poll();
  EXPECT_EQ(fired, 10);
}

TEST(Watchdog, ClosesTheSocketExactlyAtTheDeadline) {
  Fixture f;
  Watchdog w(f.time, f.io);
  w.Arm(milliseconds(100), &f.socket);
  f.Advance(milliseconds(99));
  EXPECT_TRUE(f.socket.is_open());
  EXPECT_FALSE(w.fired());
  f.Advance(milliseconds(1));
  EXPECT_FALSE(f.socket.is_open());
  EXPECT_TRUE(w.fired());
}

TEST(Watchdog, RearmingLaterMovesTheDeadlineWithoutANewTimer) {
  Fixture f;
  Watchdog w(f.time, f.io);
  w.Arm(milliseconds(100), &f.socket);
  f.Advance(milliseconds(60));
  w.Arm(milliseconds(100), &f.socket);  // now due at 160
  f.Advance(milliseconds(40));          // the first wait ends at 100 and waits again
  EXPECT_TRUE(f.socket.is_open());
  EXPECT_EQ(f.time.PendingTimers(), 1u);
  f.Advance(milliseconds(59));
  EXPECT_TRUE(f.socket.is_open());
  f.Advance(milliseconds(1));
  EXPECT_FALSE(f.socket.is_open());
}

TEST(Watchdog, EarlierDeadlineAndDisarm) {
  Fixture f;
  Watchdog w(f.time, f.io);
  w.Arm(milliseconds(1000), &f.socket);
  w.Arm(milliseconds(10), &f.socket);  // earlier: the timer restarts
  f.Advance(milliseconds(10));
  EXPECT_FALSE(f.socket.is_open());
  Fixture g;
  Watchdog v(g.time, g.io);
  v.Arm(milliseconds(10), &g.socket);
  v.Disarm();
  g.Advance(milliseconds(1000));
  EXPECT_TRUE(g.socket.is_open());
  EXPECT_FALSE(v.fired());
}

}  // namespace
}  // namespace causeway::proxy

namespace causeway::proxy {
namespace {

// A connected socket pair's one end, for the idle list to close.
struct IdleListFixture {
  SimulatedTime time;
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  tcp::socket a{io};
  tcp::socket b{io};
  IdleListFixture() {
    a.connect(acceptor.local_endpoint());
    b.connect(acceptor.local_endpoint());
  }
  void Advance(milliseconds d) {
    time.Advance(d);
    io.restart();
    io.poll();
  }
};

TEST(IdleList, ClosesEachSocketAtItsOwnDeadlineInTheOrderTheyWent) {
  IdleListFixture f;
  IdleList list(f.time, f.io, milliseconds(100));
  IdleList::Node first, second;
  list.Add(&first, &f.a);
  f.Advance(milliseconds(30));
  list.Add(&second, &f.b);
  f.Advance(milliseconds(69));
  EXPECT_TRUE(f.a.is_open()) << "closed before its deadline";
  f.Advance(milliseconds(1));
  EXPECT_FALSE(f.a.is_open()) << "not closed at 100 ms";
  EXPECT_TRUE(f.b.is_open());
  f.Advance(milliseconds(29));
  EXPECT_TRUE(f.b.is_open());
  f.Advance(milliseconds(1));
  EXPECT_FALSE(f.b.is_open()) << "the second not closed 100 ms after it went idle";
  EXPECT_TRUE(list.empty());
}

TEST(IdleList, ANodeThatLeavesIsNotClosedAndTheNextKeepsItsDeadline) {
  IdleListFixture f;
  IdleList list(f.time, f.io, milliseconds(100));
  IdleList::Node first, second;
  list.Add(&first, &f.a);
  f.Advance(milliseconds(50));
  list.Add(&second, &f.b);
  IdleList::Remove(&first);  // its request came
  IdleList::Remove(&first);  // leaving twice is harmless
  f.Advance(milliseconds(60));
  EXPECT_TRUE(f.a.is_open()) << "closed after leaving the list";
  EXPECT_TRUE(f.b.is_open());
  f.Advance(milliseconds(39));
  EXPECT_TRUE(f.b.is_open());
  f.Advance(milliseconds(1));
  EXPECT_FALSE(f.b.is_open()) << "the wait for the first did not move on to the second";
}

TEST(IdleLists, OneListPerTimeout) {
  IdleListFixture f;
  IdleLists lists;
  IdleList& a = lists.For(f.time, f.io, milliseconds(100));
  EXPECT_EQ(&lists.For(f.time, f.io, milliseconds(100)), &a);
  IdleList::Node waiting;
  a.Add(&waiting, &f.a);  // a connection still waits under the old timeout
  IdleList& b = lists.For(f.time, f.io, milliseconds(50));
  EXPECT_NE(&a, &b);
  EXPECT_EQ(b.timeout(), milliseconds(50));
  EXPECT_EQ(&lists.For(f.time, f.io, milliseconds(100)), &a) << "a list in use was dropped";
  f.Advance(milliseconds(100));
  EXPECT_FALSE(f.a.is_open()) << "the old timeout's list stopped closing";
}

TEST(Watchdog, ReleaseDropsTheTimerAndTheNextArmMakesOne) {
  Fixture f;
  Watchdog dog(f.time, f.io);
  dog.Arm(milliseconds(10), &f.socket);
  EXPECT_EQ(f.time.PendingTimers(), 1u);
  dog.Release();
  EXPECT_EQ(f.time.PendingTimers(), 0u);
  f.Advance(milliseconds(20));
  EXPECT_TRUE(f.socket.is_open());
  dog.Arm(milliseconds(10), &f.socket);
  f.Advance(milliseconds(10));
  EXPECT_FALSE(f.socket.is_open());
  EXPECT_TRUE(dog.fired());
}

}  // namespace
}  // namespace causeway::proxy
