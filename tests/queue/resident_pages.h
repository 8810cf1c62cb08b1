// Resident: whether a page is in memory, for the tests of slabs that give their pages back.
#ifndef COURIER_TESTS_QUEUE_RESIDENT_PAGES_H_
#define COURIER_TESTS_QUEUE_RESIDENT_PAGES_H_

#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>

namespace courier::testing {

// Whether the page holding `p` is in memory (mincore).
inline bool Resident(const void* p) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  unsigned char in = 0;
  REQUIRE(mincore(reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(p) & ~(page - 1)), page,
                  &in) == 0);
  return (in & 1) != 0;
}

}  // namespace courier::testing

#endif  // COURIER_TESTS_QUEUE_RESIDENT_PAGES_H_
