// Socket reads and writes that finish in the calling coroutine when the
// socket is ready, and wait only when it is not.
//
// Why: an Asio operation awaited with use_awaitable never resumes its
// coroutine inline. Even when the data is already there (the speculative
// recv/send inside the operation succeeds), the completion is queued behind
// every other ready handler of the worker. A request then goes
// breadth-first through a burst: after a stall of the machine, every
// waiting connection's request is read before the first is forwarded,
// every forward is queued before the first response is read, and so on,
// so the requests of a burst all finish near its end. bench/proxy/run
// measured added p99 0.22-0.39 ms above nginx's (paired medians) with every
// step queued, and -0.06 to +0.24 ms with these in use as below
// (bench/proxy/HISTORY.md).
//
// These try the non-blocking call first (the socket must be in
// non-blocking mode) and fall back to Asio's queued operation (a read) or to
// async_wait for writability, so a ready socket costs no trip through the
// scheduler. They are for the bounded steps of a request (a head, the
// first chunk of a response); loops over a body keep the plain asynchronous
// operations, which pass through the scheduler on every step, so one fast
// download cannot keep the worker from its other connections.
//
// Only while the worker is lightly loaded. Carrying every request through
// at once cost throughput under saturation (closed-loop wrk with 50
// connections: 0.82x and 0.85x nginx, from 1.02x and 1.21x awaited): there
// a worker that goes breadth-first hands the origin and the client batches
// of requests, and each of the processes sharing the cores does more per
// wake-up. So ReadSome and WriteAll take the choice: at once while the
// worker has only a handful of requests in progress (a burst after a stall,
// the everyday load of a sidecar), queued like any Asio operation beyond.
//
// Queued writes go further: a busy worker's write waits until the worker has
// been through the work that was already ready (a post, then the write).
// Asio's own async_write sends at once and queues only its completion, so a
// worker going through a burst of answers wrote each downstream between
// its reads, and the client woke for a few at a time; posted, the writes of a
// burst leave together and each peer finds more per wake-up. With wrk at 50
// connections and 100 B answers, causeway/nginx throughput went from 1.01
// to 1.06 (medians of 12 alternating rounds, two runs alike; 16 KiB and
// 1,000 connections unchanged within their spread), with no more CPU per
// request (bench/proxy/HISTORY.md).
//
// Requests going upstream take neither path: Asio's async_write sends them
// at once and resumes the session through the queue, at any load. Held back
// by a post, a burst's requests reached the origin together and it went
// back to sleep between bursts; finished at once, the session went on to
// read a response that was not there yet. Either left the two cores idle
// part of the time (8-12% against nginx's 6% with 16 KiB answers to wrk at
// 50 connections). Sent at once and resumed through the queue,
// causeway/nginx went from 0.96-1.00 to 1.05-1.08 at 16 KiB and from
// 1.11-1.17 to 1.22-1.29 at 100 B (three processes of each build, 5-6
// alternating rounds; bench/proxy/HISTORY.md).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <tuple>
#include <vector>

namespace causeway::proxy {

using IoResult = std::tuple<boost::system::error_code, std::size_t>;

// The completion token of the request path's asynchronous calls: the
// error comes back in a tuple with the result, never as an exception.
inline constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);

// Reads what is available into `buffer` (at least one byte, or an error;
// eof at the end of the stream), waiting for data if none is there.
template <typename Socket>
boost::asio::awaitable<IoResult> ReadSomeNow(Socket& socket, boost::asio::mutable_buffer buffer) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  std::size_t n = socket.read_some(buffer, ec);
  if (ec != asio::error::would_block) co_return IoResult{ec, n};
  // Not there yet: a queued read, not async_wait. Asio re-arms the
  // descriptor with an epoll_ctl for every async_wait (a system call per
  // request), while a read on a socket that the reactor's last read drained
  // is only queued until epoll reports data, and the reactor then reads.
  auto [read_ec, got] =
      co_await socket.async_read_some(buffer, asio::as_tuple(asio::use_awaitable));
  co_return IoResult{read_ec, got};
}

// Writes all of `buffers`, waiting for writability whenever the socket's
// send buffer is full. Returns the bytes written (all of them unless error).
template <typename Socket, typename ConstBufferSequence>
boost::asio::awaitable<IoResult> WriteAllNow(Socket& socket, const ConstBufferSequence& buffers) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  std::size_t written = asio::write(socket, buffers, ec);
  std::vector<asio::const_buffer> rest;
  while (ec == asio::error::would_block) {
    auto [wait_ec] =
        co_await socket.async_wait(Socket::wait_write, asio::as_tuple(asio::use_awaitable));
    if (wait_ec) co_return IoResult{wait_ec, written};
    // What is left: `buffers` without its first `written` bytes.
    rest.clear();
    std::size_t skip = written;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
      asio::const_buffer b(*it);
      if (skip >= b.size()) {
        skip -= b.size();
        continue;
      }
      rest.push_back(b + skip);
      skip = 0;
    }
    ec.clear();
    written += asio::write(socket, rest, ec);
  }
  co_return IoResult{ec, written};
}

// ReadSomeNow when `at_once`, else Asio's queued async_read_some.
template <typename Socket>
boost::asio::awaitable<IoResult> ReadSome(Socket& socket, boost::asio::mutable_buffer buffer,
                                          bool at_once) {
  namespace asio = boost::asio;
  if (at_once) co_return co_await ReadSomeNow(socket, buffer);
  auto [ec, n] = co_await socket.async_read_some(buffer, asio::as_tuple(asio::use_awaitable));
  co_return IoResult{ec, n};
}

// WriteAllNow when `at_once`, else Asio's queued async_write after the
// worker's ready work (see the top of this file).
template <typename Socket, typename ConstBufferSequence>
boost::asio::awaitable<IoResult> WriteAll(Socket& socket, const ConstBufferSequence& buffers,
                                          bool at_once) {
  namespace asio = boost::asio;
  if (at_once) co_return co_await WriteAllNow(socket, buffers);
  co_await asio::post(socket.get_executor(), asio::use_awaitable);
  auto [ec, n] = co_await asio::async_write(socket, buffers, asio::as_tuple(asio::use_awaitable));
  co_return IoResult{ec, n};
}

}  // namespace causeway::proxy
