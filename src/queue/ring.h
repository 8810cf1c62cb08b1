// Ring<T>: a FIFO of small trivially copyable entries (slot references, timers) in one circular
// buffer whose capacity is a power of two. Push and pop are a few instructions with no call,
// where std::deque calls out of line and allocates and frees a block every few dozen entries;
// every message passes through three of these. The buffer doubles when full and halves when
// ShrinkToFit finds it mostly empty. Pages of a large buffer not yet written are not resident,
// so a buffer grown for 2^k entries costs memory for the entries it has held.
#ifndef COURIER_SRC_QUEUE_RING_H_
#define COURIER_SRC_QUEUE_RING_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace courier::queue_internal {

template <typename T>
class Ring {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  bool empty() const { return head_ == tail_; }
  size_t size() const { return tail_ - head_; }
  size_t capacity() const { return mask_ + 1; }

  const T& front() const { return slots_[head_ & mask_]; }
  const T& back() const { return slots_[(tail_ - 1) & mask_]; }
  void push_back(const T& entry) {
    if (tail_ - head_ == capacity()) Resize(2 * capacity());
    slots_[tail_++ & mask_] = entry;
  }
  void pop_front() { ++head_; }
  void clear() {
    slots_.reset();
    mask_ = kNoCapacity;
    head_ = tail_ = 0;
  }

  // Removes the entries for which `p` holds, keeping the others in order.
  template <typename Predicate>
  void EraseIf(Predicate p) {
    uint64_t kept = head_;
    for (uint64_t i = head_; i != tail_; ++i) {
      const T entry = slots_[i & mask_];
      if (!p(entry)) slots_[kept++ & mask_] = entry;
    }
    tail_ = kept;
  }
  // Halves the buffer while it is at most a quarter full (keeping a small one).
  void ShrinkToFit() {
    size_t target = capacity();
    while (target > kMinShrunk && size() * 4 <= target) target /= 2;
    if (target != capacity()) Resize(target);
  }

 private:
  static constexpr uint64_t kNoCapacity = uint64_t(-1);  // capacity() wraps to 0
  static constexpr size_t kFirst = 64, kMinShrunk = 1024;

  void Resize(size_t n) {
    if (n < kFirst) n = kFirst;
    auto next = std::unique_ptr<T[]>(new T[n]);
    const size_t count = size();
    for (size_t i = 0; i < count; ++i) next[i] = slots_[(head_ + i) & mask_];
    slots_ = std::move(next);
    mask_ = n - 1;
    head_ = 0;
    tail_ = count;
  }

  std::unique_ptr<T[]> slots_;
  uint64_t mask_ = kNoCapacity;
  uint64_t head_ = 0, tail_ = 0;  // positions ever pushed and popped; slot = position & mask_
};

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_RING_H_
