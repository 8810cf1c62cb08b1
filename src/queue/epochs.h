// Epochs: epoch-based reclamation, so that memory a lock-free structure unlinks is freed only
// once no thread can still be reading it.
//
// A thread reads shared structures inside an Epochs::Guard; what it unlinks it hands to Retire,
// which runs the deleter once every thread that was inside a guard at the time has left it.
// Guards nest and cost one seq_cst exchange and one store; Retire is a vector push.
//
// Written here rather than taken from liburcu: its read side relies on fences that
// ThreadSanitizer does not model, and every structure here is tested under it. The algorithm is
// Fraser's (three epochs): the global epoch moves on only when every pinned thread has seen it,
// and what was retired in epoch e is freed once the epoch reaches e + 2.
#ifndef COURIER_SRC_QUEUE_EPOCHS_H_
#define COURIER_SRC_QUEUE_EPOCHS_H_

#include <cstdint>

namespace courier::queue_internal {

class Epochs {
 public:
  class Guard {
   public:
    Guard() { Enter(); }
    ~Guard() { Leave(); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
  };

  // Runs `deleter(object)` once no guard entered before this call is still held. Thread-safe.
  static void Retire(void* object, void (*deleter)(void*));

  // The epoch now, and whether every guard held at that moment has been left since (after
  // trying to move the epoch on, when `advance`): for a structure that must know when no thread
  // can still act on what it read before a change, e.g. that a table it replaced gets no more
  // inserts.
  static uint64_t Now();
  static bool Passed(uint64_t epoch, bool advance);

  // Frees what can be freed now (tests and benchmarks measuring memory call it). Thread-safe.
  static void Collect();

  // A small number of the calling thread's own: no two running threads have the same, and a
  // number is reused only after its thread exits (its record then goes to a new thread, with
  // happens-before). Counters indexed by it need no read-modify-write.
  static uint32_t ThreadNumber() {
    const uint32_t n = t_number;
    return n != kNoNumber ? n : FirstThreadNumber();
  }

 private:
  friend struct EpochsThreadExit;  // epochs.cc: gives the record back
  static constexpr uint32_t kNoNumber = UINT32_MAX;
  static inline thread_local uint32_t t_number = kNoNumber;
  static uint32_t FirstThreadNumber();
  static void Enter();
  static void Leave();
};

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_EPOCHS_H_
