// MpmcRing: an unbounded lock-free FIFO of 64-bit entries, for any number of producers and
// consumers. Callers hold an Epochs::Guard around every call.
//
// Entries live in a chain of one-shot segments (each cell written once, read once). A producer
// reserves a cell with one fetch-add and writes it with one CAS; a consumer claims the oldest
// with one CAS on its segment's read position. A consumer that finds a cell reserved but not yet
// written skips it (after a short bounded spin), so a producer stopped between its two steps
// holds no one up: it finds its cell skipped and pushes again. Consumed segments are retired
// through Epochs; segments grow from 32 cells to 1,024, so an idle ring costs a few hundred bytes.
//
// 0 and ~0 are not entries (they mark empty and skipped cells).
//
// Every access is seq_cst (on x86 that costs nothing more: the read-modify-writes are locked
// anyway and loads are plain), so that a push is ordered with a later seq_cst load of a long
// poll's waiter count, and a poller's registration with its later look at the ring
// (WakeSignal::NotifyAfterSeqCstChange).
#ifndef COURIER_SRC_QUEUE_MPMC_RING_H_
#define COURIER_SRC_QUEUE_MPMC_RING_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <span>

#include "queue/epochs.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace courier::queue_internal {

class MpmcRing {
 public:
  MpmcRing() : head_(Segment::Make(kFirstCells, 0)) { tail_.store(head_.load()); }
  ~MpmcRing() {
    for (Segment* s = head_.load(); s != nullptr;) {
      Segment* next = s->next.load();
      Segment::Destroy(s);
      s = next;
    }
  }
  MpmcRing(const MpmcRing&) = delete;
  MpmcRing& operator=(const MpmcRing&) = delete;

  void Push(uint64_t entry);
  // Push, for a ring that one thread alone pushes to (and never with Push): the cell is written
  // and then published with one store, no read-modify-write. No guard is needed around it.
  // `order`: seq_cst where a long poll's wake-up rests on it (WakeSignal::NotifyAfterSeqCstChange),
  // release elsewhere (on x86 a plain store).
  void PushOwned(uint64_t entry, std::memory_order order = std::memory_order_seq_cst);
  // PushOwned of several entries, published with one store per segment they fill.
  void PushOwned(std::span<const uint64_t> entries, std::memory_order order);

  // Removes and returns the oldest entry if `take(entry)` says so; nullopt when the ring is empty
  // or `take` declined. `take` may run more than once, on entries another consumer then wins.
  template <typename Take>
  std::optional<uint64_t> PopIf(Take take);
  std::optional<uint64_t> Pop() {
    return PopIf([](uint64_t) { return true; });
  }
  // Removes the oldest entries for which `take(entry, n)` holds (n: how many it took so far),
  // up to `max`, with one CAS for the whole run when they are written and in one segment;
  // returns how many, written to `out`. 0: empty, or `take` declined the first.
  template <typename Take>
  size_t PopRun(Take take, uint64_t* out, size_t max);

  // Entries pushed and not yet popped (or skipped), approximately while others push and pop.
  uint64_t ApproximateSize() const {
    const Segment* t = tail_.load(std::memory_order_seq_cst);
    const Segment* h = head_.load(std::memory_order_seq_cst);
    const uint64_t end =
        t->base + std::min<uint64_t>(t->enq.load(std::memory_order_seq_cst), t->capacity);
    const uint64_t begin =
        h->base + std::min<uint64_t>(h->deq.load(std::memory_order_seq_cst), h->capacity);
    return end > begin ? end - begin : 0;
  }

 private:
  static constexpr uint64_t kEmpty = 0, kSkipped = ~uint64_t{0};
  static constexpr uint32_t kFirstCells = 32, kMaxCells = 1024;

  struct Segment {
    const uint64_t capacity;
    const uint64_t base;  // position of cell 0 in the whole ring
    alignas(64) std::atomic<uint64_t> enq{0};
    alignas(64) std::atomic<uint64_t> deq{0};
    std::atomic<Segment*> next{nullptr};

    Segment(uint64_t c, uint64_t b) : capacity(c), base(b) {}
    std::atomic<uint64_t>* cells() { return reinterpret_cast<std::atomic<uint64_t>*>(this + 1); }
    static Segment* Make(uint64_t cells, uint64_t base) {
      void* p = ::operator new (sizeof(Segment) + cells * sizeof(std::atomic<uint64_t>),
                                std::align_val_t{alignof(Segment)});
      auto* s = new (p) Segment(cells, base);
      for (uint64_t i = 0; i < cells; ++i) new (&s->cells()[i]) std::atomic<uint64_t>(kEmpty);
      return s;
    }
    static void Destroy(void* p) {
      static_cast<Segment*>(p)->~Segment();  // the cells are trivially destructible
      ::operator delete (p, std::align_val_t{alignof(Segment)});
    }
  };

  static void Pause() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  }

  alignas(64) std::atomic<Segment*> head_;
  alignas(64) std::atomic<Segment*> tail_{nullptr};
};

inline void MpmcRing::Push(uint64_t entry) {
  for (;;) {
    Segment* s = tail_.load(std::memory_order_seq_cst);
    const uint64_t i = s->enq.fetch_add(1, std::memory_order_seq_cst);
    if (i < s->capacity) [[likely]] {
      uint64_t expected = kEmpty;
      if (s->cells()[i].compare_exchange_strong(expected, entry, std::memory_order_seq_cst)) {
        return;
      }
      continue;  // a consumer skipped the cell: reserve another
    }
    Segment* next = s->next.load(std::memory_order_seq_cst);
    if (next == nullptr) {
      Segment* fresh =
          Segment::Make(std::min<uint64_t>(2 * s->capacity, kMaxCells), s->base + s->capacity);
      if (s->next.compare_exchange_strong(next, fresh, std::memory_order_seq_cst)) {
        next = fresh;
      } else {
        Segment::Destroy(fresh);
      }
    }
    tail_.compare_exchange_strong(s, next, std::memory_order_seq_cst);
  }
}

inline void MpmcRing::PushOwned(uint64_t entry, std::memory_order order) {
  PushOwned({&entry, 1}, order);
}

inline void MpmcRing::PushOwned(std::span<const uint64_t> entries, std::memory_order order) {
  Segment* s = tail_.load(std::memory_order_relaxed);  // only this thread moves it
  uint64_t i = s->enq.load(std::memory_order_relaxed);
  while (!entries.empty()) {
    if (i >= s->capacity) {
      Segment* fresh =
          Segment::Make(std::min<uint64_t>(2 * s->capacity, kMaxCells), s->base + s->capacity);
      s->next.store(fresh, std::memory_order_seq_cst);
      tail_.store(fresh, std::memory_order_seq_cst);
      s = fresh;
      i = 0;
    }
    const size_t n = std::min<uint64_t>(entries.size(), s->capacity - i);
    for (size_t k = 0; k < n; ++k) s->cells()[i + k].store(entries[k], std::memory_order_relaxed);
    i += n;
    s->enq.store(i, order);  // publishes the cells (see PopIf)
    entries = entries.subspan(n);
  }
}

template <typename Take>
std::optional<uint64_t> MpmcRing::PopIf(Take take) {
  int spins = 0;
  for (;;) {
    Segment* s = head_.load(std::memory_order_seq_cst);
    uint64_t d = s->deq.load(std::memory_order_seq_cst);
    if (d >= s->capacity) {
      Segment* next = s->next.load(std::memory_order_seq_cst);
      if (next == nullptr) return std::nullopt;
      if (head_.compare_exchange_strong(s, next, std::memory_order_seq_cst)) {
        Epochs::Retire(s, &Segment::Destroy);
      }
      continue;
    }
    uint64_t v = s->cells()[d].load(std::memory_order_seq_cst);
    if (v == kEmpty) {
      // Reserved by Push and not yet written (PushOwned publishes a cell only once written:
      // the next look finds it).
      if (s->enq.load(std::memory_order_seq_cst) <= d) return std::nullopt;
      if (++spins < 4) {  // reserved: its producer may be about to write it
        Pause();
        continue;
      }
      spins = 0;
      if (!s->cells()[d].compare_exchange_strong(v, kSkipped, std::memory_order_seq_cst)) {
        continue;  // written meanwhile: look again
      }
      s->deq.compare_exchange_strong(d, d + 1, std::memory_order_seq_cst);
      continue;
    }
    if (v == kSkipped) {
      s->deq.compare_exchange_strong(d, d + 1, std::memory_order_seq_cst);
      continue;
    }
    if (!take(v)) return std::nullopt;
    if (s->deq.compare_exchange_strong(d, d + 1, std::memory_order_seq_cst)) return v;
  }
}

template <typename Take>
size_t MpmcRing::PopRun(Take take, uint64_t* out, size_t max) {
  for (;;) {
    Segment* s = head_.load(std::memory_order_seq_cst);
    uint64_t d = s->deq.load(std::memory_order_seq_cst);
    size_t n = 0;
    uint64_t end = d;
    bool declined = false;
    while (end < s->capacity && n < max) {
      const uint64_t v = s->cells()[end].load(std::memory_order_seq_cst);
      if (v == kEmpty) break;
      if (v != kSkipped) {
        if (!take(v, n)) {
          declined = true;
          break;
        }
        out[n++] = v;
      }
      ++end;
    }
    if (end == d) {
      if (declined) return 0;  // `take` declined the front entry: PopIf would only ask again
      // Nothing reserved at the front: empty (as PopIf would find it).
      if (d < s->capacity && s->enq.load(std::memory_order_seq_cst) <= d) return 0;
      // A cell reserved but not yet written at the front, or the segment is used up: one at a
      // time.
      std::optional<uint64_t> e = PopIf([&](uint64_t v) { return take(v, 0); });
      if (!e) return 0;
      out[0] = *e;
      return 1;
    }
    if (s->deq.compare_exchange_strong(d, end, std::memory_order_seq_cst) && n > 0) return n;
  }
}

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_MPMC_RING_H_
