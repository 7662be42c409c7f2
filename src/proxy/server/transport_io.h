// Reads and writes on a connection that may speak TLS: the socket itself
// in clear text, else the TLS session over it.
//
// These only choose the operation; they are not coroutines, so the clear-
// text path pays one pointer test and no frame or allocation more than
// calling the socket's operation (or ReadSome / WriteAll) directly. TLS
// always takes Asio's asynchronous operations: the synchronous SSL calls on
// a non-blocking socket can lose bytes on would_block, so the at-once path
// of immediate_io.h is for clear text only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "proxy/config/tls_stream.h"
#include "proxy/server/immediate_io.h"

namespace causeway::proxy {

// A connection's byte stream as the functions below take it.
struct Transport {
  boost::asio::ip::tcp::socket* socket = nullptr;
  TlsStream* tls = nullptr;  // nullptr: clear text
};

// ReadSome (immediate_io.h) in clear text; TLS's queued read otherwise.
inline boost::asio::awaitable<IoResult> ReadSomeFrom(boost::asio::ip::tcp::socket& socket,
                                                     TlsStream* tls,
                                                     boost::asio::mutable_buffer buffer,
                                                     bool at_once) {
  if (tls != nullptr) return tls->async_read_some(buffer, kNoThrow);
  return ReadSome(socket, buffer, at_once);
}

// WriteAll (immediate_io.h) in clear text; TLS's queued write otherwise.
template <typename ConstBufferSequence>
boost::asio::awaitable<IoResult> WriteAllTo(boost::asio::ip::tcp::socket& socket, TlsStream* tls,
                                            const ConstBufferSequence& buffers, bool at_once) {
  if (tls != nullptr) return boost::asio::async_write(*tls, buffers, kNoThrow);
  return WriteAll(socket, buffers, at_once);
}

// Asio's queued read, on the socket or the TLS session.
inline boost::asio::awaitable<IoResult> AsyncReadSome(boost::asio::ip::tcp::socket& socket,
                                                      TlsStream* tls,
                                                      boost::asio::mutable_buffer buffer) {
  if (tls != nullptr) return tls->async_read_some(buffer, kNoThrow);
  return socket.async_read_some(buffer, kNoThrow);
}

// Asio's async_write, on the socket or the TLS session.
template <typename ConstBufferSequence>
boost::asio::awaitable<IoResult> AsyncWrite(boost::asio::ip::tcp::socket& socket, TlsStream* tls,
                                            const ConstBufferSequence& buffers) {
  if (tls != nullptr) return boost::asio::async_write(*tls, buffers, kNoThrow);
  return boost::asio::async_write(socket, buffers, kNoThrow);
}

}  // namespace causeway::proxy
