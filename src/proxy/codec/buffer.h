// A growable byte buffer with a read and a write cursor, used for socket I/O.
// Consumed bytes are reclaimed lazily by compaction so steady-state traffic
// does not allocate.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace causeway::proxy {

class ByteBuffer {
 public:
  explicit ByteBuffer(size_t initial = 0) { data_.resize(initial); }

  std::string_view View() const { return {data_.data() + begin_, end_ - begin_}; }
  const char* data() const { return data_.data() + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void Clear() { begin_ = end_ = 0; }

  // Returns writable space of at least `min` bytes (compacting or growing).
  char* Prepare(size_t min) {
    if (data_.size() - end_ < min) {
      if (begin_ > 0) {
        std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (data_.size() - end_ < min) data_.resize(end_ + min);
    }
    return data_.data() + end_;
  }
  size_t writable() const { return data_.size() - end_; }
  void Commit(size_t n) { end_ += n; }

  void Append(std::string_view s) {
    std::memcpy(Prepare(s.size()), s.data(), s.size());
    Commit(s.size());
  }

  // Frees the storage of an empty buffer (idle keep-alive connections).
  void ReleaseIfEmpty() {
    if (empty() && !data_.empty()) {
      std::vector<char>().swap(data_);
    }
  }

 private:
  std::vector<char> data_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace causeway::proxy
