// The memory allocator causeway-proxy runs on, and its numbers for /stats.
//
// The proxy links tcmalloc (gperftools' tcmalloc_minimal) in release builds;
// sanitizer builds keep libc's malloc, which AddressSanitizer replaces. Why
// tcmalloc: with glibc's malloc a worker that once held thousands of
// connections keeps its later, few live objects spread over the fragmented
// heap they left, and every request then costs more (bench/proxy/HISTORY.md,
// 2026-11-27: about 12% more CPU per request at 16 KiB after 10,000 idle
// connections had come and gone). tcmalloc's per-size spans keep them packed.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace causeway::proxy {

// "tcmalloc" or "libc".
std::string_view AllocatorName();

// With tcmalloc: memory_allocated_bytes (in use by the proxy),
// memory_heap_size_bytes (reserved from the system) and
// memory_physical_size_bytes (of that, still backed by memory). Empty with
// libc's malloc, which has no such counters worth exporting.
std::map<std::string, double> AllocatorStats();

}  // namespace causeway::proxy
