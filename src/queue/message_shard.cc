#include "queue/message_shard.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <functional>

namespace courier::queue_internal {

static_assert(sizeof(Slot) == 72, "a slot's size is what the memory target rests on");

detail::Md5Digest Slot::Md5() const {
  if (!has_md5()) return detail::Md5(body());
  detail::Md5Digest out;
  std::memcpy(out.data(), data.get(), 16);
  return out;
}

void MessageShard::ApplyDue(int64_t now, int64_t retention) {
  while (!expiries_.empty()) {
    const Ref r = expiries_.front();
    if (Occupied(r)) {
      if (at(r.slot).enqueued + retention > now) break;
      Release(r.slot);
    }
    expiries_.pop_front();
  }
  while (!late_expiries_.empty() && late_expiries_.front().enqueued + retention <= now) {
    const Ref r = late_expiries_.front().ref;
    std::pop_heap(late_expiries_.begin(), late_expiries_.end(), std::greater<>());
    late_expiries_.pop_back();
    if (Occupied(r)) Release(r.slot);
  }
  while (!timers_.empty() && timers_.top().at <= now) {
    const Ref r = timers_.top().ref;
    timers_.pop();
    const SlotState s = at(r.slot).state();
    if (Current(r) && (s == SlotState::kInFlight || s == SlotState::kDelayed)) MakeVisible(r.slot);
  }
  PublishNextTimer();
  // The loop stopped at a live entry (or emptied the ring).
  next_expiry_enqueued_ = expiries_.empty() ? INT64_MAX : at(expiries_.front().slot).enqueued;
  CompactIfMostlyStale();
}

std::optional<int64_t> MessageShard::NextTimer() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.top().at;
}

void MessageShard::Clear() {
  for (uint32_t i = 0; i < size_; ++i) {
    if (at(i).state() != SlotState::kFree) Release(i);
  }
  ready_.clear();
  timers_.clear();
  PublishNextTimer();
  expiries_.clear();
  next_expiry_enqueued_ = INT64_MAX;
  late_expiries_.clear();
}

// Every visible slot has one current ready entry, every delayed or in-flight slot one current
// timer, every occupied slot one expiry entry: the rest are stale. An index is rebuilt once
// more than half of it (and at least a few thousand entries) is stale, which keeps the work per
// operation constant on average.
void MessageShard::CompactStaleIndexes() {
  changes_since_compaction_check_ = 0;
  auto mostly_stale = [](size_t size, int64_t live) {
    return size > 4096 && static_cast<int64_t>(size) > 2 * live;
  };
  if (mostly_stale(ready_.size(), visible())) {
    ready_.EraseIf([&](Ref r) { return !Current(r); });
  }
  if (mostly_stale(timers_.size(), delayed_ + in_flight())) {
    timers_.EraseIf([&](const Timer& t) { return !Current(t.ref); });
    PublishNextTimer();
  }
  if (mostly_stale(expiries_.size() + late_expiries_.size(), occupied_)) {
    expiries_.EraseIf([&](Ref r) { return !Occupied(r); });
    std::erase_if(late_expiries_, [&](const LateExpiry& e) { return !Occupied(e.ref); });
    std::make_heap(late_expiries_.begin(), late_expiries_.end(), std::greater<>());
  }
  // A queue that drained gives its index memory back.
  ready_.ShrinkToFit();
  timers_.ShrinkToFit();
  expiries_.ShrinkToFit();
}

void MessageShard::RestoreSlot(uint32_t i, uint32_t gen, bool occupied) {
  while (size_ <= i) {
    if ((size_ & kSegmentMask) == 0)
      segments_.push_back(std::make_unique<Slot[]>(kSegmentMask + 1));
    ++size_;
  }
  at(i).gen = gen;
  if (occupied) ++occupied_;
}

void MessageShard::FinishRestore() {
  free_.clear();
  for (uint32_t i = size_; i-- > 0;) {
    if (at(i).state() == SlotState::kFree) free_.push_back(i);
  }
}

}  // namespace courier::queue_internal
