// DiscardPages, DiscardSlabPages: give the memory of an array's whole pages back to the system
// (the slabs of drained queues). Not API.
#ifndef COURIER_SRC_QUEUE_PAGES_H_
#define COURIER_SRC_QUEUE_PAGES_H_

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iterator>

namespace courier::queue_internal {

// The pages that lie wholly inside [begin, end) go back (madvise MADV_DONTNEED): they stay
// mapped and read as zeros until written again. Whole pages only: the ends may share a page
// with the allocator's own bytes or with objects still in use.
inline void DiscardPages(const void* begin, const void* end) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto from = (reinterpret_cast<uintptr_t>(begin) + page - 1) & ~(page - 1);
  const auto to = reinterpret_cast<uintptr_t>(end) & ~(page - 1);
  if (from < to) madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
}

// The same for slots [0, used) of a slab whose segment k (an atomic pointer, null until made)
// holds `first` << k slots from slot `first` * (2^k - 1) on.
template <typename Segments>
void DiscardSlabPages(const Segments& segments, uint32_t first, uint32_t used) {
  for (uint32_t k = 0; k < std::size(segments); ++k) {
    const uint32_t begin = first * ((1u << k) - 1);
    if (begin >= used) break;
    const auto* segment = segments[k].load(std::memory_order_acquire);
    if (segment == nullptr) continue;
    DiscardPages(segment, segment + (std::min(used, begin + (first << k)) - begin));
  }
}

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_PAGES_H_
