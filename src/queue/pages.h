// DiscardPages: gives the memory of an array's whole pages back to the system (the slabs of
// drained queues). Not API.
#ifndef COURIER_SRC_QUEUE_PAGES_H_
#define COURIER_SRC_QUEUE_PAGES_H_

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

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

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_PAGES_H_
