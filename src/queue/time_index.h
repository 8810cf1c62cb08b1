// TimeIndex<Entry>: entries ordered by a time that mostly arrives in increasing order, such as
// the ends of a queue's (constant) visibility timeout. Those go to a ring, pushed and popped in
// O(1); the few that arrive out of order (a per-receive timeout, a visibility change) go to a
// min-heap beside it. `Entry` has an `int64_t at`.
#ifndef COURIER_SRC_QUEUE_TIME_INDEX_H_
#define COURIER_SRC_QUEUE_TIME_INDEX_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "queue/ring.h"

namespace courier::queue_internal {

template <typename Entry>
class TimeIndex {
 public:
  void Push(const Entry& e) {
    if (in_order_.empty() || in_order_.back().at <= e.at) {
      in_order_.push_back(e);
    } else {
      late_.push_back(e);
      std::push_heap(late_.begin(), late_.end(), Later);
    }
  }
  bool empty() const { return in_order_.empty() && late_.empty(); }
  size_t size() const { return in_order_.size() + late_.size(); }
  // The earliest entry; not empty.
  const Entry& top() const { return FromLate() ? late_.front() : in_order_.front(); }
  void pop() {
    if (FromLate()) {
      std::pop_heap(late_.begin(), late_.end(), Later);
      late_.pop_back();
    } else {
      in_order_.pop_front();
    }
  }
  void clear() {
    in_order_.clear();
    late_.clear();
  }
  // Pops in-order entries from the front while `p` holds for them (cheap clean-up of entries
  // known to be stale; the out-of-order heap is left to EraseIf).
  template <typename Predicate>
  void PopFrontWhile(Predicate p) {
    while (!in_order_.empty() && p(in_order_.front())) in_order_.pop_front();
  }
  void ShrinkToFit() { in_order_.ShrinkToFit(); }
  template <typename Predicate>
  void EraseIf(Predicate p) {
    in_order_.EraseIf(p);
    std::erase_if(late_, p);
    std::make_heap(late_.begin(), late_.end(), Later);
  }

 private:
  static bool Later(const Entry& a, const Entry& b) { return a.at > b.at; }
  bool FromLate() const {
    return !late_.empty() && (in_order_.empty() || late_.front().at < in_order_.front().at);
  }

  Ring<Entry> in_order_;
  std::vector<Entry> late_;  // min-heap
};

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_TIME_INDEX_H_
