#include "proxy/app/allocator.h"

#include <cstddef>

#ifdef CAUSEWAY_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#endif

namespace causeway::proxy {

#ifdef CAUSEWAY_TCMALLOC

std::string_view AllocatorName() { return "tcmalloc"; }

std::map<std::string, double> AllocatorStats() {
  auto property = [](const char* name) {
    size_t value = 0;
    return MallocExtension_GetNumericProperty(name, &value) ? static_cast<double>(value) : 0.0;
  };
  const double heap = property("generic.heap_size");
  return {{"memory_allocated_bytes", property("generic.current_allocated_bytes")},
          {"memory_heap_size_bytes", heap},
          {"memory_physical_size_bytes", heap - property("tcmalloc.pageheap_unmapped_bytes")}};
}

#else

std::string_view AllocatorName() { return "libc"; }

std::map<std::string, double> AllocatorStats() { return {}; }

#endif

}  // namespace causeway::proxy
