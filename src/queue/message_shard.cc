#include "queue/message_shard.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <functional>

namespace courier::detail {

static_assert(sizeof(Slot) == 72, "a slot's size is what the memory target rests on");

std::unique_ptr<char[]> MessageShard::TakeBuffer(size_t n) {
  const size_t c = SizeClass(n);
  if (c >= kPooledClasses) return std::unique_ptr<char[]>(new char[n]);
  if (pool_[c].empty()) return std::unique_ptr<char[]>(new char[ClassCapacity(c)]);
  std::unique_ptr<char[]> buffer = std::move(pool_[c].back());
  pool_[c].pop_back();
  return buffer;
}

void MessageShard::GiveBuffer(std::unique_ptr<char[]> buffer, size_t n) {
  const size_t c = SizeClass(n);
  if (c < kPooledClasses && pool_[c].size() < kPooledPerClass) {
    pool_[c].push_back(std::move(buffer));
  }
}

void MessageShard::SetBody(Slot& slot, std::string_view text, const Md5Digest* md5) {
  assert(text.size() <= Slot::kMaxBodySize);
  const size_t prefix = md5 != nullptr ? 16 : 0;
  slot.data = TakeBuffer(prefix + text.size());
  if (md5 != nullptr) std::memcpy(slot.data.get(), md5->data(), 16);
  std::memcpy(slot.data.get() + prefix, text.data(), text.size());
  slot.body_size = static_cast<uint32_t>(text.size());
  slot.has_md5 = md5 != nullptr;
}

Md5Digest Slot::Md5() const {
  if (!has_md5) return detail::Md5(body());
  Md5Digest out;
  std::memcpy(out.data(), data.get(), 16);
  return out;
}

uint32_t MessageShard::Allocate() {
  ++occupied_;
  if (!free_.empty()) {
    uint32_t i = free_.back();
    free_.pop_back();
    return i;
  }
  if ((size_ & kSegmentMask) == 0) segments_.push_back(std::make_unique<Slot[]>(kSegmentMask + 1));
  return size_++;
}

void MessageShard::Leave(Slot& slot) {
  switch (slot.state()) {
    case SlotState::kVisible:
      AddVisible(-1);
      break;
    case SlotState::kDelayed:
      --delayed_;
      break;
    case SlotState::kInFlight:
      AddInFlight(-1);
      break;
    case SlotState::kFree:
      break;
  }
  ++slot.version;
}

void MessageShard::AddTimer(uint32_t i, int64_t at) {
  timers_.Push({at, {i, this->at(i).version}});
  PublishNextTimer();
}

void MessageShard::Place(uint32_t i, int64_t now, int64_t visible_at) {
  Slot& slot = at(i);
  if (visible_at > now) {
    ++slot.version;
    slot.set_state(SlotState::kDelayed);
    ++delayed_;
    AddTimer(i, visible_at);
  } else {
    slot.set_state(SlotState::kFree);  // MakeVisible counts from nothing
    MakeVisible(i);
  }
  if (expiries_.empty() || last_expiry_enqueued_ <= slot.enqueued) {
    if (expiries_.empty()) next_expiry_enqueued_ = slot.enqueued;
    expiries_.push_back({i, slot.gen});
    last_expiry_enqueued_ = slot.enqueued;
  } else {
    late_expiries_.push_back({slot.enqueued, {i, slot.gen}});
    std::push_heap(late_expiries_.begin(), late_expiries_.end(), std::greater<>());
  }
}

void MessageShard::Free(uint32_t i) {
  Release(i);
  // Messages are mostly deleted in the order they were received and sent, so the entries just
  // made stale are usually at the front of the in-order indexes: drop them there, before they
  // pile up for a compaction.
  timers_.PopFrontWhile([&](const Timer& t) { return !Current(t.ref); });
  while (!expiries_.empty() && !Occupied(expiries_.front())) expiries_.pop_front();
  CompactIfMostlyStale();
}

void MessageShard::Release(uint32_t i) {
  Slot& slot = at(i);
  Leave(slot);
  slot.set_state(SlotState::kFree);
  ++slot.gen;
  GiveBuffer(std::move(slot.data), slot.data_size());
  slot.extra.reset();
  free_.push_back(i);
  --occupied_;
}

void MessageShard::MakeVisible(uint32_t i) {
  Slot& slot = at(i);
  Leave(slot);
  slot.set_state(SlotState::kVisible);
  AddVisible(1);
  ready_.push_back({i, slot.version});
}

void MessageShard::MakeInFlight(uint32_t i, int64_t until) {
  Slot& slot = at(i);
  Leave(slot);
  slot.set_state(SlotState::kInFlight);
  AddInFlight(1);
  AddTimer(i, until);
}

void MessageShard::Advance(int64_t now, int64_t retention) {
  // Most calls find nothing due: tell from three numbers, without touching any slot.
  if (now - retention < next_expiry_enqueued_ &&
      (late_expiries_.empty() || now - retention < late_expiries_.front().enqueued) &&
      (timers_.empty() || timers_.top().at > now)) {
    return;
  }
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
  // The loop stopped at a live entry (or emptied the deque).
  next_expiry_enqueued_ = expiries_.empty() ? INT64_MAX : at(expiries_.front().slot).enqueued;
  CompactIfMostlyStale();
}

std::optional<uint32_t> MessageShard::PeekReady() {
  while (!ready_.empty()) {
    const Ref r = ready_.front();
    if (Current(r) && at(r.slot).state() == SlotState::kVisible) return r.slot;
    ready_.pop_front();
  }
  return std::nullopt;
}

std::optional<uint32_t> MessageShard::PopReady() {
  std::optional<uint32_t> i = PeekReady();
  if (i) ready_.pop_front();
  return i;
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
void MessageShard::CompactIfMostlyStale() {
  if (++changes_since_compaction_check_ < 256) return;  // checking is not free either
  changes_since_compaction_check_ = 0;
  auto mostly_stale = [](size_t size, int64_t live) {
    return size > 4096 && static_cast<int64_t>(size) > 2 * live;
  };
  if (mostly_stale(ready_.size(), visible())) {
    std::erase_if(ready_, [&](Ref r) { return !Current(r); });
  }
  if (mostly_stale(timers_.size(), delayed_ + in_flight())) {
    timers_.EraseIf([&](const Timer& t) { return !Current(t.ref); });
    PublishNextTimer();
  }
  if (mostly_stale(expiries_.size() + late_expiries_.size(), occupied_)) {
    std::erase_if(expiries_, [&](Ref r) { return !Occupied(r); });
    std::erase_if(late_expiries_, [&](const LateExpiry& e) { return !Occupied(e.ref); });
    std::make_heap(late_expiries_.begin(), late_expiries_.end(), std::greater<>());
  }
}

}  // namespace courier::detail
