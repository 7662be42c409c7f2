// The idle timeouts of a worker's idle keep-alive connections, with one
// timer per timeout instead of one per connection.
//
// Why: a per-connection timer cost an idle connection about 460 B (the
// Timer, its state and its pending wait; src/proxy/README.md, "Memory of an
// idle connection"). Every connection of a listener waits the same idle
// timeout, so the order in which they go idle is the order of their
// deadlines: a FIFO list per timeout is ordered by deadline, entering and
// leaving it is O(1) (an intrusive node in the session), and one timer at
// the head's deadline serves them all.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "common/time_source.h"

namespace causeway::proxy {

class IdleList {
 public:
  using Clock = std::chrono::steady_clock;

  // One idle connection: lives in its session; the list only links it.
  struct Node {
    Node* prev = nullptr;
    Node* next = nullptr;
    IdleList* list = nullptr;  // null: in no list
    Clock::time_point deadline;
    boost::asio::ip::tcp::socket* socket = nullptr;  // closed at the deadline
  };

  IdleList(TimeSource& time, boost::asio::io_context& io, Clock::duration timeout)
      : time_(time), io_(io), timeout_(timeout) {}
  ~IdleList() {
    while (head_ != nullptr) Remove(head_);
  }
  IdleList(const IdleList&) = delete;
  IdleList& operator=(const IdleList&) = delete;

  Clock::duration timeout() const { return timeout_; }

  // `node` waits from now; its socket is closed after the timeout unless it
  // leaves the list first.
  void Add(Node* node, boost::asio::ip::tcp::socket* socket) {
    node->socket = socket;
    node->deadline = time_.Monotonic() + timeout_;
    node->list = this;
    node->prev = tail_;
    node->next = nullptr;
    (tail_ != nullptr ? tail_->next : head_) = node;
    tail_ = node;
    if (!pending_) Schedule();
  }
  // Leaves the list, if in it. The timer is left as it is: when it fires for
  // a node that left, it waits again for the new head.
  static void Remove(Node* node) {
    IdleList* list = node->list;
    if (list == nullptr) return;
    (node->prev != nullptr ? node->prev->next : list->head_) = node->next;
    (node->next != nullptr ? node->next->prev : list->tail_) = node->prev;
    node->prev = node->next = nullptr;
    node->list = nullptr;
  }
  bool empty() const { return head_ == nullptr; }

 private:
  void Schedule() {
    if (head_ == nullptr) return;
    if (timer_ == nullptr) timer_ = time_.CreateTimer(io_);
    pending_ = true;
    // A replaced or destroyed timer drops its callback (Timer), so `this`
    // is safe to capture.
    timer_->Schedule(head_->deadline, [this] { Expire(); });
  }
  void Expire() {
    pending_ = false;
    const Clock::time_point now = time_.Monotonic();
    while (head_ != nullptr && head_->deadline <= now) {
      Node* node = head_;
      Remove(node);
      boost::system::error_code ec;
      node->socket->close(ec);  // the session's pending read ends
    }
    Schedule();
  }

  TimeSource& time_;
  boost::asio::io_context& io_;
  const Clock::duration timeout_;
  std::unique_ptr<Timer> timer_;
  Node* head_ = nullptr;  // the earliest deadline
  Node* tail_ = nullptr;
  bool pending_ = false;  // a wait for some deadline is scheduled
};

// A worker's idle lists for one listener: one per idle timeout in use (one,
// unless an update changes the listener's idle timeout while connections
// wait under the old one).
class IdleLists {
 public:
  // The list for `timeout` (created on first use).
  IdleList& For(TimeSource& time, boost::asio::io_context& io, IdleList::Clock::duration timeout) {
    for (const auto& list : lists_) {
      if (list->timeout() == timeout) return *list;
    }
    // Lists no connection waits in any more are dropped here, when a new
    // timeout appears, so updates do not pile them up.
    std::erase_if(lists_, [](const std::unique_ptr<IdleList>& l) { return l->empty(); });
    return *lists_.emplace_back(std::make_unique<IdleList>(time, io, timeout));
  }

 private:
  std::vector<std::unique_ptr<IdleList>> lists_;
};

}  // namespace causeway::proxy
