// A growable byte buffer with a read and a write cursor, used for socket I/O.
// Consumed bytes are reclaimed lazily by compaction so steady-state traffic
// does not allocate.
//
// Written here for speed rather than built on std::vector<char>: the storage
// is left uninitialized (vector zero-fills every byte it grows by), and
// blocks of the common size (kBlockSize: what a fresh buffer gets) are
// recycled through a small per-thread free list. Idle keep-alive
// connections release their buffer and take it back with the next request,
// so without the free list every request paid a malloc + memset of the
// whole buffer per side (about 5% of a worker's CPU at 1,000 connections).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace causeway::proxy {

class ByteBuffer {
 public:
  static constexpr size_t kBlockSize = 32 * 1024;

  explicit ByteBuffer(size_t initial = 0) {
    if (initial > 0) Reserve(initial);
  }
  ~ByteBuffer() { Free(); }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  std::string_view View() const { return {data_ + begin_, end_ - begin_}; }
  const char* data() const { return data_ + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void Clear() { begin_ = end_ = 0; }

  // Returns writable space of at least `min` bytes (compacting or growing).
  char* Prepare(size_t min) {
    if (capacity_ - end_ < min) {
      if (begin_ > 0) {
        std::memmove(data_, data_ + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (capacity_ - end_ < min) Reserve(end_ + min);
    }
    return data_ + end_;
  }
  size_t writable() const { return capacity_ - end_; }
  void Commit(size_t n) { end_ += n; }

  void Append(std::string_view s) {
    if (s.empty()) return;  // memcpy from a null data() is undefined even for 0 bytes
    std::memcpy(Prepare(s.size()), s.data(), s.size());
    Commit(s.size());
  }

  // Frees the storage of an empty buffer (idle keep-alive connections).
  void ReleaseIfEmpty() {
    if (empty()) Free();
  }

 private:
  // Per-thread free list of kBlockSize blocks. Bounded, so a burst of
  // connections leaves at most kMaxCached blocks (4 MiB) behind per thread.
  struct BlockCache {
    static constexpr size_t kMaxCached = 128;
    std::vector<char*> blocks;
    ~BlockCache() {
      for (char* b : blocks) delete[] b;
    }
  };
  static BlockCache& Cache() {
    static thread_local BlockCache cache;
    return cache;
  }

  // Grows to at least `need` bytes, keeping [0, end_).
  void Reserve(size_t need) {
    size_t cap = need <= kBlockSize ? kBlockSize : std::max(need, capacity_ * 2);
    char* block;
    BlockCache& cache = Cache();
    if (cap == kBlockSize && !cache.blocks.empty()) {
      block = cache.blocks.back();
      cache.blocks.pop_back();
    } else {
      block = new char[cap];  // uninitialized on purpose
    }
    const size_t used = end_;  // begin_ is 0 here (Prepare compacted)
    if (used > 0) std::memcpy(block, data_, used);
    Free();
    end_ = used;
    data_ = block;
    capacity_ = cap;
  }

  void Free() {
    if (data_ == nullptr) return;
    BlockCache& cache = Cache();
    if (capacity_ == kBlockSize && cache.blocks.size() < BlockCache::kMaxCached) {
      cache.blocks.push_back(data_);
    } else {
      delete[] data_;
    }
    data_ = nullptr;
    capacity_ = 0;
    begin_ = end_ = 0;
  }

  char* data_ = nullptr;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace causeway::proxy
