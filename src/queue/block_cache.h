// BlockCache: malloc blocks of one size, kept by each thread for its next allocation.
//
// For objects made and freed at a high rate by every thread (a FIFO group's snapshots change on
// each receive and delete): Take reuses a block this thread gave back, Give keeps up to
// kKept blocks. Blocks are plain malloc blocks, so ::free is always a valid way to free one;
// what a thread keeps is freed when it exits. Not API.
//
// Example:
//   using Cache = BlockCache<512>;
//   void* p = Cache::Take();
//   Cache::Give(p);   // the next Take on this thread returns p
#ifndef COURIER_SRC_QUEUE_BLOCK_CACHE_H_
#define COURIER_SRC_QUEUE_BLOCK_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace courier::queue_internal {

template <size_t kSize>
class BlockCache {
 public:
  static constexpr uint32_t kKept = 64;

  static void* Take() {
    Kept& k = t_kept;
    if (k.count > 0) return k.blocks[--k.count];
    void* p = ::malloc(kSize);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }

  static void Give(void* p) {
    Kept& k = t_kept;
    if (k.closed || k.count == kKept) {
      ::free(p);
      return;
    }
    if (k.count == 0) (void)&t_owner;  // constructed on first use, to free what is kept
    k.blocks[k.count++] = p;
  }

 private:
  // Trivially destructible, so that it stays usable while other thread-local objects are
  // destroyed (their destructors may free blocks); the owner empties it at thread exit.
  struct Kept {
    void* blocks[kKept];
    uint32_t count;
    bool closed;
  };
  struct Owner {
    ~Owner() {
      Kept& k = t_kept;
      while (k.count > 0) ::free(k.blocks[--k.count]);
      k.closed = true;
    }
  };
  static inline thread_local Kept t_kept{};
  static inline thread_local Owner t_owner;
};

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_BLOCK_CACHE_H_
