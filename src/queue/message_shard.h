// One shard of a standard queue's messages.
//
// Slots are reused under a generation counter, so a receipt handle of a former tenant never
// matches. Three indexes point at slots: the ready order of visible messages, timers for delayed
// and in-flight ones, and retention expiries in enqueue order. Index entries are never searched
// for: a state change bumps the slot's version and leaves the old entry behind, to be skipped
// when reached; each index knows how many of its entries are live (one per slot in the matching
// state) and compacts itself once most are stale, so memory stays proportional to the messages
// held.
//
// Not thread-safe: the owner holds `mu` around every call.
#ifndef COURIER_SRC_QUEUE_MESSAGE_SHARD_H_
#define COURIER_SRC_QUEUE_MESSAGE_SHARD_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/detail/digest.h"
#include "courier/detail/uuid.h"
#include "courier/message.h"
#include "queue/adaptive_mutex.h"
#include "queue/ring.h"
#include "queue/time_index.h"

namespace courier::queue_internal {

enum class SlotState : uint32_t { kFree, kVisible, kInFlight, kDelayed };

// The rarely used parts of a message, allocated only when present.
struct SlotExtra {
  MessageAttributes attributes;
  Md5Hex md5_of_attributes;
  std::optional<std::string> trace_header;
  std::optional<std::string> group_id;
  std::string dead_letter_source_arn;
};

// One message: 72 bytes plus its body, so that 10 million 100-byte messages fit in 2 GiB.
struct Slot {
  static constexpr uint32_t kMaxBodySize = (1u << 24) - 1;  // the SQS limit is 1 MiB
  static constexpr int kStateShift = 24;
  static constexpr uint32_t kHasMd5 = 1u << 26;

  uint32_t gen = 0;       // bumped when freed
  uint32_t version = 0;   // bumped on every state change
  uint32_t receives = 0;  // ApproximateReceiveCount; a handle names the receive it came from
  // The body's size (bits 0-23), the state (24-25) and whether the digest is stored (26), in
  // one word that is only ever loaded and stored whole: storing a byte of it (as bit-fields do)
  // and then loading the word stalls, the load waiting for the store to reach the cache.
  uint32_t packed = 0;
  detail::Uuid id;
  int64_t enqueued = 0;  // ns; also SentTimestamp (in a dead-letter queue: the original send)
  int64_t received_at = 0;
  int64_t first_receive = 0;
  std::unique_ptr<char[]> data;  // [MD5 digest, when has_md5][body]: one allocation
  std::unique_ptr<SlotExtra> extra;

  uint32_t body_size() const { return packed & kMaxBodySize; }
  bool has_md5() const { return (packed & kHasMd5) != 0; }
  SlotState state() const { return static_cast<SlotState>(packed >> kStateShift & 3); }
  void set_state(SlotState s) {
    packed = (packed & ~(3u << kStateShift)) | static_cast<uint32_t>(s) << kStateShift;
  }
  void set_body(uint32_t size, bool md5) {
    packed = (packed & (3u << kStateShift)) | size | (md5 ? kHasMd5 : 0);
  }
  std::string_view body() const { return {data.get() + (has_md5() ? 16 : 0), body_size()}; }
  size_t data_size() const { return (has_md5() ? 16 : 0) + body_size(); }
  detail::Md5Digest Md5() const;  // the stored digest, or computed now
};

class MessageShard {
 public:
  MessageShard() = default;
  MessageShard(const MessageShard&) = delete;
  MessageShard& operator=(const MessageShard&) = delete;

  AdaptiveMutex mu;  // guards everything below (the counters are also read without it)

  Slot& at(uint32_t i) { return segments_[i >> kSegmentBits][i & kSegmentMask]; }
  const Slot& at(uint32_t i) const { return segments_[i >> kSegmentBits][i & kSegmentMask]; }
  bool contains(uint32_t i) const { return i < size_; }

  // A free slot for a new message; fill it (SetBody and the rest), then Place it.
  uint32_t Allocate();
  // Stores the body, and its digest when given, in a buffer of the shard's pool.
  void SetBody(Slot& slot, std::string_view body, const detail::Md5Digest* md5);
  // Makes a filled slot visible, or delayed until `visible_at`, and schedules its expiry.
  void Place(uint32_t i, int64_t now, int64_t visible_at);
  void Free(uint32_t i);
  void MakeVisible(uint32_t i);
  // In flight until `until` (> now); from visible, delayed or in flight.
  void MakeInFlight(uint32_t i, int64_t until);
  // Applies everything due at `now`: retention expiries, then ended delays and visibility
  // timeouts.
  void Advance(int64_t now, int64_t retention);
  // The oldest visible message, removed from the ready order (it must then change state), or
  // nullopt. PeekReady leaves it in place.
  std::optional<uint32_t> PopReady();
  std::optional<uint32_t> PeekReady();
  // The earliest pending delay or visibility end (possibly of a stale entry).
  std::optional<int64_t> NextTimer() const;
  void Clear();  // PurgeQueue

  // Recovery (Hub::Recover), on a shard no one uses yet: slot i gets generation `gen` and, when
  // `occupied`, is taken for a message (fill it and Place it, as after Allocate). FinishRestore
  // then makes every slot left free reusable.
  void RestoreSlot(uint32_t i, uint32_t gen, bool occupied);
  void FinishRestore();

  int64_t visible() const { return visible_.load(std::memory_order_relaxed); }
  // Read without the lock, so that a receive skips shards with nothing to give: false only if
  // no message was visible and no delay or visibility timeout was due at `now` when the shard
  // last changed (exact for a single thread; a send racing with it may be missed, as a short
  // poll of SQS may miss it).
  bool MayHaveVisible(int64_t now) const {
    return visible() > 0 || next_timer_.load(std::memory_order_relaxed) <= now;
  }
  int64_t delayed() const { return delayed_; }
  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  // The in-flight limit needs the queue's total on every receive. Summing the shards would read
  // every shard's cache line; instead each shard adds its changes to `total` in steps of
  // kInFlightSlack, so `total` is within kInFlightSlack per shard of the truth.
  static constexpr int64_t kInFlightSlack = 64;
  void ReportInFlightTo(std::atomic<int64_t>* total) { in_flight_total_ = total; }

 private:
  static constexpr int kSegmentBits = 12;
  static constexpr uint32_t kSegmentMask = (1u << kSegmentBits) - 1;
  struct Ref {
    uint32_t slot, stamp;  // stamp: the slot's version (ready, timers) or generation (expiries)
  };
  struct Timer {
    int64_t at;
    Ref ref;
    bool operator>(const Timer& o) const { return at > o.at; }
  };
  struct LateExpiry {  // a dead letter older than the newest expiry: kept in a heap
    int64_t enqueued;
    Ref ref;
    bool operator>(const LateExpiry& o) const { return enqueued > o.enqueued; }
  };

  // A ready or timer entry still describes its slot.
  bool Current(Ref r) const { return at(r.slot).version == r.stamp; }
  // An expiry entry's message is still here.
  bool Occupied(Ref r) const {
    const Slot& s = at(r.slot);
    return s.gen == r.stamp && s.state() != SlotState::kFree;
  }
  void Leave(Slot& slot);    // uncounts the slot's state
  void Release(uint32_t i);  // Free without compacting (safe while walking an index)
  void AddTimer(uint32_t i, int64_t at);
  void CompactIfMostlyStale();
  void CompactStaleIndexes();                     // what CompactIfMostlyStale does now and then
  void ApplyDue(int64_t now, int64_t retention);  // Advance when something is due

  // Body buffers of freed slots, by size class, for the next sends: a send and a delete then
  // cost no call into malloc. A class holds a few dozen, so an emptied queue returns its memory.
  // Capacities are what malloc gives anyway for the size (a 16-byte granule minus its 8-byte
  // header), so pooling costs no memory.
  static constexpr size_t kPooledClasses = 64;  // capacities up to 1,016 bytes
  static constexpr size_t kPooledPerClass = 32;
  static size_t SizeClass(size_t n) { return (n + 8 + 15) / 16; }
  static size_t ClassCapacity(size_t c) { return c * 16 - 8; }
  std::unique_ptr<char[]> TakeBuffer(size_t n);
  void GiveBuffer(std::unique_ptr<char[]> buffer, size_t n);
  std::array<std::vector<std::unique_ptr<char[]>>, kPooledClasses> pool_;

  std::vector<std::unique_ptr<Slot[]>> segments_;
  uint32_t size_ = 0;  // slots handed out so far
  std::vector<uint32_t> free_;
  Ring<Ref> ready_;                   // visible, in the order they became so
  TimeIndex<Timer> timers_;           // delayed and in flight
  Ring<Ref> expiries_;                // enqueue order
  int64_t last_expiry_enqueued_ = 0;  // of expiries_.back()
  // At most the enqueue time of expiries_.front() (exact after Advance): nothing in expiries_
  // is due before it plus the retention period.
  int64_t next_expiry_enqueued_ = INT64_MAX;
  std::vector<LateExpiry> late_expiries_;  // min-heap
  int64_t delayed_ = 0, occupied_ = 0;
  // Written under the lock only (no read-modify-write needed), read without it.
  std::atomic<int64_t> visible_{0};
  std::atomic<int64_t> next_timer_{INT64_MAX};  // timers_.front().at
  void AddVisible(int64_t d) {
    visible_.store(visible_.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }
  void PublishNextTimer() {
    next_timer_.store(timers_.empty() ? INT64_MAX : timers_.top().at, std::memory_order_relaxed);
  }
  uint32_t changes_since_compaction_check_ = 0;
  // Read without the lock; written under it, so no read-modify-write.
  std::atomic<int64_t> in_flight_{0};
  // What this shard has not yet added to the queue-wide total (kept within +-kInFlightSlack).
  int64_t in_flight_unreported_ = 0;
  std::atomic<int64_t>* in_flight_total_ = nullptr;
  void AddInFlight(int64_t d) {
    in_flight_.store(in_flight_.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
    in_flight_unreported_ += d;
    if (in_flight_total_ != nullptr &&
        (in_flight_unreported_ >= kInFlightSlack || in_flight_unreported_ <= -kInFlightSlack)) {
      in_flight_total_->fetch_add(in_flight_unreported_, std::memory_order_relaxed);
      in_flight_unreported_ = 0;
    }
  }
};

// ---- The hot paths, inline: every send, receive and delete goes through several of them.

inline std::unique_ptr<char[]> MessageShard::TakeBuffer(size_t n) {
  const size_t c = SizeClass(n);
  if (c >= kPooledClasses) return std::unique_ptr<char[]>(new char[n]);
  if (pool_[c].empty()) return std::unique_ptr<char[]>(new char[ClassCapacity(c)]);
  std::unique_ptr<char[]> buffer = std::move(pool_[c].back());
  pool_[c].pop_back();
  return buffer;
}

inline void MessageShard::GiveBuffer(std::unique_ptr<char[]> buffer, size_t n) {
  const size_t c = SizeClass(n);
  if (c < kPooledClasses && pool_[c].size() < kPooledPerClass) {
    pool_[c].push_back(std::move(buffer));
  }
}

inline void MessageShard::SetBody(Slot& slot, std::string_view text, const detail::Md5Digest* md5) {
  assert(text.size() <= Slot::kMaxBodySize);
  const size_t prefix = md5 != nullptr ? 16 : 0;
  slot.data = TakeBuffer(prefix + text.size());
  if (md5 != nullptr) std::memcpy(slot.data.get(), md5->data(), 16);
  std::memcpy(slot.data.get() + prefix, text.data(), text.size());
  slot.set_body(static_cast<uint32_t>(text.size()), md5 != nullptr);
}

inline uint32_t MessageShard::Allocate() {
  ++occupied_;
  if (!free_.empty()) {
    uint32_t i = free_.back();
    free_.pop_back();
    return i;
  }
  if ((size_ & kSegmentMask) == 0) segments_.push_back(std::make_unique<Slot[]>(kSegmentMask + 1));
  return size_++;
}

inline void MessageShard::Leave(Slot& slot) {
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

inline void MessageShard::AddTimer(uint32_t i, int64_t at) {
  timers_.Push({at, {i, this->at(i).version}});
  PublishNextTimer();
}

inline void MessageShard::Place(uint32_t i, int64_t now, int64_t visible_at) {
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

inline void MessageShard::Free(uint32_t i) {
  Release(i);
  // Messages are mostly deleted in the order they were received and sent, so the entries just
  // made stale are usually at the front of the in-order indexes: drop them there, before they
  // pile up for a compaction.
  timers_.PopFrontWhile([&](const Timer& t) { return !Current(t.ref); });
  while (!expiries_.empty() && !Occupied(expiries_.front())) expiries_.pop_front();
  CompactIfMostlyStale();
}

inline void MessageShard::Release(uint32_t i) {
  Slot& slot = at(i);
  const size_t data_size = slot.data_size();
  Leave(slot);
  slot.set_state(SlotState::kFree);
  ++slot.gen;
  GiveBuffer(std::move(slot.data), data_size);
  slot.extra.reset();
  free_.push_back(i);
  --occupied_;
}

inline void MessageShard::MakeVisible(uint32_t i) {
  Slot& slot = at(i);
  Leave(slot);
  slot.set_state(SlotState::kVisible);
  AddVisible(1);
  ready_.push_back({i, slot.version});
}

inline void MessageShard::MakeInFlight(uint32_t i, int64_t until) {
  Slot& slot = at(i);
  Leave(slot);
  slot.set_state(SlotState::kInFlight);
  AddInFlight(1);
  AddTimer(i, until);
}

inline std::optional<uint32_t> MessageShard::PeekReady() {
  while (!ready_.empty()) {
    const Ref r = ready_.front();
    if (Current(r) && at(r.slot).state() == SlotState::kVisible) return r.slot;
    ready_.pop_front();
  }
  return std::nullopt;
}

inline std::optional<uint32_t> MessageShard::PopReady() {
  std::optional<uint32_t> i = PeekReady();
  if (i) ready_.pop_front();
  return i;
}

inline void MessageShard::Advance(int64_t now, int64_t retention) {
  // Most calls find nothing due: tell from three numbers, without touching any slot.
  if (now - retention < next_expiry_enqueued_ &&
      (late_expiries_.empty() || now - retention < late_expiries_.front().enqueued) &&
      (timers_.empty() || timers_.top().at > now)) {
    return;
  }
  ApplyDue(now, retention);
}

inline void MessageShard::CompactIfMostlyStale() {
  if (++changes_since_compaction_check_ >= 256) CompactStaleIndexes();  // checking is not free
}

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_MESSAGE_SHARD_H_
