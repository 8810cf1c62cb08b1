// MessageStore: one lane of a standard queue's messages, with no lock on any hot path. A queue
// has kLanes of them: a thread sends to its own lane and receives from its own first, so that
// threads on different lanes share no cache line (the ready order is per lane: a standard
// queue's order is best effort).
//
// Each message is a slot of a segmented slab. A slot's state, receive count and version share
// one atomic word, and every change of state is one CAS on it, so two threads can never both
// take, delete or move the same message; the version, bumped by each change, lets every index
// entry and receipt handle check lazily that it still describes its slot. A removed slot is
// reused at once, under a new generation: only its receiver (while the word says it is being
// read) or its remover read a slot's plain fields, and no one but its receiver changes a word
// being read (a removal or timer meanwhile is left for later), so that the receiver ends its
// read with a plain store. Epochs free only ring segments. A drained lane gives its pages back
// (GiveBackIfDrained).
//
// The indexes are lock-free rings (MpmcRing) of (slot, version) entries, never searched: stale
// entries are skipped when reached.
// - The ready order: visible messages, in the order they became visible.
// - Timers: delays and visibility timeouts end in one ring per distinct duration, in which
//   entries arrive in deadline order, so that the earliest is always first. A timer goes to
//   the rings of the lane of the thread that sets it (a receiver's own), which may be another
//   lane than its message's: the lanes of a queue know one another (SetLanes).
// - Retention needs no index of its own: a message sent visible is in the ready order, among
//   others in enqueue order, until it is received; an in-flight or delayed one is checked when
//   its timer ends (which is set no later than its expiry); only those that come back to the
//   ready order out of enqueue order (after a receive or a delay, and dead letters) get an
//   expiry entry.
// Entries that come out of order (expiries, timers of a queue with more than kTimerClasses
// durations in use, recovered messages) go to min-heaps kept by whichever thread holds the
// "late" role: others never wait for it, they leave the late entries to it
// (docs/architecture.md, "The lock-free core").
//
// Containers take `now` (ns) as an argument and know nothing of clocks. Callers hold an
// Epochs::Guard around every call, but Allocate, Remove, Read and Release (which pop from no
// ring), and Publish of a visible message by the lane's own thread (Owner(): it pushes to a
// ring no other thread pushes to).
#ifndef COURIER_SRC_QUEUE_MESSAGE_STORE_H_
#define COURIER_SRC_QUEUE_MESSAGE_STORE_H_

#include <array>
#include <atomic>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "courier/detail/digest.h"
#include "courier/detail/uuid.h"
#include "courier/message.h"
#include "queue/epochs.h"
#include "queue/give_back_pacing.h"
#include "queue/mpmc_ring.h"

namespace courier::queue_internal {

enum class SlotState : uint32_t { kFree = 0, kVisible = 1, kInFlight = 2, kDelayed = 3 };

// A slot's atomic word: [version: 32][receive count: 28][reading: 1][state: 3]. `reading`:
// the receiver that took the message is still copying it; until it is done (MessageStore::Read)
// no other thread changes the word, so the slot cannot be freed under it and is reused with no
// grace period.
struct SlotWord {
  static constexpr uint32_t kMaxReceives = (1u << 28) - 1;  // ApproximateReceiveCount stops there
  static constexpr uint64_t kReading = 8;
  static SlotState state(uint64_t w) { return static_cast<SlotState>(w & 7); }
  static uint32_t receives(uint64_t w) { return static_cast<uint32_t>(w >> 4) & kMaxReceives; }
  static uint32_t version(uint64_t w) { return static_cast<uint32_t>(w >> 32); }
  static uint64_t Next(uint64_t w, SlotState s, uint32_t receives) {
    if (receives > kMaxReceives) receives = kMaxReceives;
    return uint64_t{version(w) + 1u} << 32 | uint64_t{receives} << 4 | static_cast<uint64_t>(s);
  }
};

// The rarely used parts of a message, allocated only when present.
struct SlotExtra {
  MessageAttributes attributes;
  Md5Hex md5_of_attributes;
  std::optional<std::string> trace_header;
  std::optional<std::string> group_id;
  std::string dead_letter_source_arn;
};

// One message: 72 bytes plus its body, so that 10 million 100-byte messages fit in 2 GiB.
// All-zero bytes are a free slot of generation 0 (segments come zeroed from calloc, so a large
// one costs memory only for the pages its slots touch).
struct Slot {
  static constexpr uint32_t kMaxBodySize = (1u << 24) - 1;  // the SQS limit is 1 MiB
  static constexpr uint64_t kHasMd5 = 1u << 24;

  std::atomic<uint64_t> word;  // SlotWord
  // [generation: 32][has digest: 1][body size: 24]; the generation moves on when it is reused.
  std::atomic<uint64_t> meta;
  // Set while the slot is private to its sender, read by its receiver (kReading) or remover:
  detail::Uuid id;
  // ns; also SentTimestamp (in a dead-letter queue: the original send). Atomic: sweeps read it
  // of slots they do not hold.
  std::atomic<int64_t> enqueued_ns;
  // When a delay or a visibility timeout ends (ns); a free slot's link in the free stack.
  std::atomic<int64_t> deadline;
  // Milliseconds after `enqueued` (rounded up) of the latest and the first receive.
  std::atomic<uint32_t> received_ms, first_receive_ms;
  char* data;  // [MD5 digest, when it has one][body]: one allocation
  SlotExtra* extra;

  uint32_t gen() const { return static_cast<uint32_t>(meta.load(std::memory_order_relaxed) >> 32); }
  int64_t enqueued() const { return enqueued_ns.load(std::memory_order_relaxed); }
  void set_enqueued(int64_t ns) { enqueued_ns.store(ns, std::memory_order_relaxed); }
  uint32_t body_size() const {
    return static_cast<uint32_t>(meta.load(std::memory_order_relaxed) & kMaxBodySize);
  }
  bool has_md5() const { return (meta.load(std::memory_order_relaxed) & kHasMd5) != 0; }
  std::string_view body() const { return {data + (has_md5() ? 16 : 0), body_size()}; }
  detail::Md5Digest Md5() const;  // the stored digest, or computed now
  int64_t received_at() const;
  int64_t first_receive() const;
  void SetReceived(int64_t at, bool first);
};

class MessageStore : public std::enable_shared_from_this<MessageStore> {
 public:
  static constexpr uint32_t kLanes = 16;
  // Counters: one stripe for each of the first 16 threads (Epochs::ThreadNumber), which only
  // that thread writes, so with no read-modify-write; one shared by the others.
  static constexpr uint32_t kOwnedStripes = 16;
  // Lane `lane` of a queue (0 <= lane < kLanes).
  static std::shared_ptr<MessageStore> Create(uint32_t lane = 0) {
    return std::shared_ptr<MessageStore>(new MessageStore(lane));
  }
  // The queue's lanes, all of them, before any use (a lane alone is its only one).
  // `timers_at`: the queue's word for the earliest end of any lane's timers (FireDueTimers).
  void SetLanes(const std::array<MessageStore*, kLanes>& lanes, std::atomic<int64_t>* timers_at) {
    lanes_ = lanes;
    queue_timers_at_ = timers_at;
  }
  ~MessageStore();
  MessageStore(const MessageStore&) = delete;
  MessageStore& operator=(const MessageStore&) = delete;

  // Slot indexes are [lane: 4][index in lane: 28], as the former core's [shard][slot], so that
  // its records and handles keep their meaning. A lane's slots all have its number.
  static constexpr int kLaneBits = 28;
  static uint32_t LaneOf(uint32_t i) { return i >> kLaneBits; }
  bool contains(uint32_t i) const { return Lookup(i) != nullptr; }
  // The slot, when contains(i); else null.
  Slot* Lookup(uint32_t i) const;
  Slot& at(uint32_t i) const { return *Find(i); }

  // Whether the calling thread is the lane's own (Epochs::ThreadNumber() == lane): its sends
  // push with no read-modify-write, and need no guard but around a sweep.
  bool Owner() const { return Epochs::ThreadNumber() == lane_; }

  // ---- sending
  // A free slot, private to the caller: fill it (SetBody and the rest), then Publish it.
  uint32_t Allocate();
  static void SetBody(Slot& slot, std::string_view body, const detail::Md5Digest* md5);
  // Makes a filled slot visible, or delayed until `visible_at`; it expires at `enqueued +
  // retention`, before its delay ends if that is sooner. `in_order`: its enqueue time is about
  // now (a send), not older (a dead letter).
  void Publish(uint32_t i, uint32_t receives, int64_t now, int64_t visible_at, int64_t retention,
               bool in_order) {
    Publish(i, at(i), receives, now, visible_at, retention, in_order);
  }
  void Publish(uint32_t i, Slot& slot, uint32_t receives, int64_t now, int64_t visible_at,
               int64_t retention, bool in_order);

  // A slot with its index, found once, and the word last seen in it.
  struct SlotRef {
    uint32_t i;
    Slot* slot;
    uint64_t word;
  };

  // ---- changes of state: one CAS each, from the word `seen` (reloaded when it fails); each
  // fails, leaving `seen` as it is, on a word being read (kReading): no handle names that
  // receive yet, and expiries and timers wait for its end.
  // To in flight until `until`, with `receives`, and being read: the caller copies what it
  // needs and then calls Read. When until <= now no timer is set: the caller makes the message
  // visible again with Reschedule once it has read it.
  bool Receive(uint32_t i, uint64_t& seen, uint32_t receives, int64_t now, int64_t until,
               int64_t retention);
  // Receive, in two steps for a run of messages of this lane with one visibility end: Claim
  // each (`seen` becomes its new word), then AddTimers for those claimed (when until > now),
  // before they are read.
  bool Claim(Slot& slot, uint64_t& seen, uint32_t receives);
  void AddTimers(std::span<const SlotRef> claimed, int64_t now, int64_t until, int64_t retention);
  // In flight again until `until`, keeping the receive count; visible when until <= now.
  bool Reschedule(uint32_t i, uint64_t& seen, int64_t now, int64_t until, int64_t retention);
  // Removes the message and frees its slot. False when the word changed since `seen`, or `seen`
  // is a free word (a message gone) or one being read.
  bool Remove(uint32_t i, uint64_t& seen) { return Remove(i, at(i), seen); }
  bool Remove(uint32_t i, Slot& slot, uint64_t& seen);
  // Removes the message whatever changes it meanwhile (its retention ran out); one being read
  // is left to a later sweep.
  void Expire(uint32_t i, uint64_t seen);
  // The receive of `i` is done reading it (the word then loses kReading).
  void Read(uint32_t i) { Read(at(i)); }
  static void Read(Slot& slot) {
    // No other thread changes a word being read: a plain store ends the read.
    slot.word.store(slot.word.load(std::memory_order_relaxed) & ~SlotWord::kReading,
                    std::memory_order_release);
  }
  // Removes a visible message for the caller to read (a dead letter, a move): Release frees it.
  bool Take(uint32_t i, uint64_t& seen);
  void Release(uint32_t i) { Release(i, at(i)); }
  void Release(uint32_t i, Slot& slot);

  // Up to `max` (at most kMaxPop) of the oldest visible messages, out of the ready order: the
  // caller must Claim (or Receive) or Remove each from its word (if that fails, another thread
  // changed it first). Returns how many; 0: none.
  static constexpr size_t kMaxPop = 16;
  size_t PopVisible(SlotRef* out, size_t max);
  std::optional<std::pair<uint32_t, uint64_t>> PopVisible() {  // (slot, word)
    SlotRef one;
    if (PopVisible(&one, 1) == 0) return std::nullopt;
    return std::pair{one.i, one.word};
  }

  // Applies what is due at `now`: ends of delays and visibility timeouts, and retention.
  // `timers`: false when the caller has just swept this lane's timers (FireDueTimers).
  void Sweep(int64_t now, int64_t retention, bool timers = true);
  // Sweep, for a send: now and then only (a send has nothing to gain from it but memory), and
  // not the timers: a lane's timers are those its own thread set as a receiver, whose receives
  // sweep them (FireDueTimers), and those left when it stops receiving go when they end.
  void SweepSometimes(int64_t now, int64_t retention) {
    if ((++t_sends & 15) == 0) [[unlikely]]
      SweepNow(now, retention);
  }
  // Called on the calling thread's own lane at each receive: drops the stale entries at the
  // front of this lane's timer rings (the timers of messages deleted since, which would
  // otherwise wait there until their deadline) and fires the due timers of every lane of the
  // queue (one load when none is due): a lane's timers are those its threads set, for
  // messages of any lane, and would otherwise wait for a receive to come by that lane.
  void FireDueTimers(int64_t now, int64_t retention);

  // After the retention period shrank: expires what is now too old, and gives an expiry entry
  // to each message in flight or delayed past its new expiry. Visits every slot.
  void Shorten(int64_t now, int64_t retention);

  // The earliest pending delay or visibility end, if any (only used to wake a long poll).
  std::optional<int64_t> NextTimer();

  // Removes every message; `removed(i, gen)` for each (PurgeQueue). A message being read is
  // removed once its receiver is done copying it: a purge is the one call that waits for
  // another thread (not for a lock: for a receive between two of its steps).
  template <typename F>
  void Clear(F removed);

  // Counts, exact when nothing runs at the same time.
  int64_t visible() const { return Sum(&Stripe::visible); }
  int64_t in_flight() const { return Sum(&Stripe::in_flight); }
  int64_t delayed() const { return Sum(&Stripe::delayed); }
  // Messages in flight, within kInFlightSlack: read from one word.
  static constexpr int64_t kInFlightSlack = 64 * (kOwnedStripes + 1);
  int64_t InFlightEstimate() const { return in_flight_estimate_.load(std::memory_order_relaxed); }

  // No earlier than this (ns) can anything in the lane become receivable: a receive passes a
  // lane by with one load while now < WakeAt(). Pushes lower it; Settle, after a receive found
  // nothing, raises it to what the lane holds. seq_cst, as the rings (a long poll's check).
  int64_t WakeAt() const { return wake_at_.load(std::memory_order_seq_cst); }
  void Settle(int64_t retention);
  // The enqueue time of the oldest visible message, if any (a move task takes the oldest).
  std::optional<int64_t> OldestVisible();

  // ---- recovery (Hub::Recover), on a store no one uses yet
  // Slot i gets generation `gen`; when `occupied` it is taken for a message (fill it and
  // Publish it, as after Allocate). FinishRestore then makes every slot left free reusable.
  void RestoreSlot(uint32_t i, uint32_t gen, bool occupied);
  // A recovered message still in flight until `until` (after Publish).
  void RestoreInFlight(uint32_t i, uint32_t receives, int64_t until);
  void FinishRestore();

  // Makes released slots reusable: one chain, linked through `deadline`, one CAS. Release
  // gathers a thread's in batches of 32 and hands them back with HandBackBatch, which also
  // counts the threads holding a batch of the lane (StartBatch), so that a drained lane whose
  // other threads' batches have come back is looked at again (GiveBackIfDrained).
  void PushFree(const uint32_t* slots, uint32_t count);
  void StartBatch() { batch_holders_.fetch_add(1, std::memory_order_relaxed); }
  void HandBackBatch(const uint32_t* slots, uint32_t count);
  // Hands back to their lane the slots this thread released and has not handed back yet (32
  // at a time otherwise), and frees what epochs allow (tests of memory use).
  static void FlushRemoved();

  // ---- giving memory back
  // Called by a receive that got nothing, for each lane it found empty. When the lane has
  // handed out at least kGiveBackAtLeast slots and every one of them is back in its free stack
  // (a drained queue), gives the slab's pages back to the system and starts again from slot 0,
  // under generations and versions above any the lane has had, so that no stale handle or
  // index entry matches a new message. Never waits: a lane in use, or another thread doing it,
  // leaves it for later (until other threads hand their batches of released slots back; after a
  // walk found the lane in use, until a second on `now`'s clock has passed, then 2, 4... up to 5
  // minutes).
  static constexpr uint32_t kGiveBackAtLeast = 1u << 16;
  bool GiveBackIfDrained(int64_t now, uint32_t at_least = kGiveBackAtLeast) {
    return used_.load(std::memory_order_relaxed) >= at_least && GiveBack(now);
  }
  // Slots handed out since the lane began or last gave its memory back.
  uint32_t slots_used() const { return used_.load(std::memory_order_relaxed); }

 private:
  explicit MessageStore(uint32_t lane);

  static constexpr uint32_t kFirstSegment = 64;  // segment k holds 64 << k slots
  static constexpr uint32_t kSegments = 23;
  static constexpr uint32_t kCapacity = (1u << kLaneBits) - 2;
  static constexpr uint32_t kLocalMask = (1u << kLaneBits) - 1;
  static constexpr int kTimerClasses = 16;

  struct alignas(64) Stripe {
    std::atomic<int64_t> visible{0}, in_flight{0}, delayed{0};
  };
  // A ring that the lane's own thread (Epochs::ThreadNumber() == lane) pushes to with no
  // read-modify-write, beside one for every other thread; consumers take from both.
  struct Rings {
    MpmcRing owned, shared;
    std::array<MpmcRing*, 2> both() { return {&owned, &shared}; }
    uint64_t ApproximateSize() const { return owned.ApproximateSize() + shared.ApproximateSize(); }
  };
  struct TimerClass {
    explicit TimerClass(int64_t d) : duration(d) {}
    const int64_t duration;
    Rings rings;  // (slot, version), each ring in deadline order
  };
  void Push(Rings& rings, uint64_t entry, std::memory_order order = std::memory_order_seq_cst) {
    if (Owner()) {
      rings.owned.PushOwned(entry, order);
    } else {
      rings.shared.Push(entry);
    }
  }
  void PushReady(uint64_t entry) {
    Push(ready_, entry);
    if (wake_at_.load(std::memory_order_relaxed) != 0) wake_at_.store(0, std::memory_order_seq_cst);
  }
  static void Lower(std::atomic<int64_t>& v, int64_t to) {
    int64_t seen = v.load(std::memory_order_relaxed);
    while (to < seen && !v.compare_exchange_weak(seen, to, std::memory_order_seq_cst)) {
    }
  }
  struct Late;  // the late entries and their heaps

  Slot* Find(uint32_t i) const;
  Slot* SlotOf(uint32_t i);  // creating its segment
  static void Locate(uint32_t local, uint32_t& segment, uint32_t& offset);

  static uint64_t Entry(uint32_t i, uint32_t stamp) { return uint64_t{i + 1u} << 32 | stamp; }
  static uint32_t EntrySlot(uint64_t e) { return static_cast<uint32_t>(e >> 32) - 1; }
  static uint32_t EntryStamp(uint64_t e) { return static_cast<uint32_t>(e); }
  // Whether a timer entry still describes its slot, whose word is `word`.
  static bool TimerCurrent(uint64_t e, uint64_t word) {
    const SlotState state = SlotWord::state(word);
    return SlotWord::version(word) == EntryStamp(e) &&
           (state == SlotState::kInFlight || state == SlotState::kDelayed);
  }

  void Count(SlotState s, int64_t d);
  void Count(uint32_t thread, SlotState s, int64_t d);
  int64_t Sum(std::atomic<int64_t> Stripe::*field) const;
  bool Change(uint32_t i, uint64_t& seen, uint64_t next) { return Change(at(i), seen, next); }
  bool Change(Slot& slot, uint64_t& seen, uint64_t next);
  void MakeVisible(uint32_t i, uint64_t next);  // after the CAS to `next`: index it
  void AddTimer(uint32_t i, uint64_t word, int64_t now, int64_t at, int64_t retention) {
    const SlotRef one{i, &this->at(i), word};
    AddTimers({&one, 1}, now, at, retention);
  }
  void AddLateTimer(uint64_t entry);
  void AddLateExpiry(uint32_t i, uint32_t gen);
  void SweepTimers(int64_t now, int64_t retention);
  void SweepReady(int64_t now, int64_t retention);
  static inline thread_local uint32_t t_sends = 0;  // SweepSometimes
  void SweepNow(int64_t now, int64_t retention);    // Sweep but the timers, under a guard
  void SweepLate(int64_t now, int64_t retention);
  // What a timer that ended does: expires the message, or makes it visible.
  void Fire(uint32_t i, uint64_t word, int64_t now, int64_t retention);

  const uint32_t lane_;
  std::array<MessageStore*, kLanes> lanes_{};  // lanes_[lane_] == this
  MessageStore& LaneFor(uint32_t i) { return *lanes_[LaneOf(i)]; }
  // The lane whose rings a timer set by the calling thread goes to.
  MessageStore& TimerLane() { return *lanes_[Epochs::ThreadNumber() % kLanes]; }
  void PushTimers(std::span<const uint64_t> entries, int64_t duration, MessageStore& owner);
  std::array<std::atomic<Slot*>, kSegments> segments_{};
  std::atomic<uint32_t> used_{0};  // slots handed out or recovered
  // Giving memory back (GiveBackIfDrained): the most slots the lane had before it last did
  // (their handles stay valid, naming a message gone), and what a slot handed out again starts
  // from.
  std::atomic<uint32_t> high_water_{0};
  std::atomic<uint32_t> floor_version_{0}, floor_gen_{0};
  GiveBackPacing give_back_pacing_;
  bool GiveBack(int64_t now);                     // GiveBackIfDrained past its first look
  void PushChain(uint32_t first, uint32_t last);  // slots linked first .. last, one CAS
  void Rebuild(uint32_t slots);                   // slots [0, slots) as free, after a discard
  alignas(64) std::atomic<uint64_t> free_{0};     // [tag: 32][slot + 1: 32]: a Treiber stack
  std::atomic<uint32_t> batch_holders_{0};        // threads with a released batch of the lane
  std::array<Stripe, kOwnedStripes + 1> stripes_;
  std::atomic<int64_t> in_flight_estimate_{0};  // within 64 per stripe of the truth
  Rings ready_;
  alignas(64) std::atomic<int64_t> wake_at_{INT64_MAX};
  // No timer in this lane's rings ends before it (lowered by a push, raised by FireDueTimers);
  // the queue's word, shared by its lanes, is at most the least of theirs.
  std::atomic<int64_t> timers_at_{INT64_MAX};
  std::atomic<int64_t>* queue_timers_at_ = &timers_at_;
  void FireLaneTimers(int64_t now, int64_t retention);
  std::array<std::atomic<TimerClass*>, kTimerClasses> timer_classes_{};
  std::unique_ptr<Late> late_;
};

// ---- inline: the hot paths ---------------------------------------------------------------------

inline void MessageStore::Locate(uint32_t local, uint32_t& segment, uint32_t& offset) {
  // Segment k starts at 64 * (2^k - 1).
  const uint32_t q = local / kFirstSegment + 1;
  segment = static_cast<uint32_t>(31 - __builtin_clz(q));
  offset = local - kFirstSegment * ((1u << segment) - 1);
}

[[gnu::always_inline]] inline Slot* MessageStore::Find(uint32_t i) const {
  uint32_t segment, offset;
  Locate(i & kLocalMask, segment, offset);
  Slot* first = segments_[segment].load(std::memory_order_acquire);
  return first == nullptr ? nullptr : first + offset;
}

inline Slot* MessageStore::Lookup(uint32_t i) const {
  const uint32_t local = i & kLocalMask;
  if (LaneOf(i) != lane_ || local >= kCapacity ||
      (local >= used_.load(std::memory_order_acquire) &&
       local >= high_water_.load(std::memory_order_acquire))) {
    return nullptr;
  }
  return Find(i);
}

inline void MessageStore::Count(SlotState s, int64_t d) { Count(Epochs::ThreadNumber(), s, d); }

inline void MessageStore::Count(uint32_t thread, SlotState s, int64_t d) {
  std::atomic<int64_t> Stripe::*field;
  switch (s) {
    case SlotState::kVisible:
      field = &Stripe::visible;
      break;
    case SlotState::kDelayed:
      field = &Stripe::delayed;
      break;
    case SlotState::kInFlight:
      field = &Stripe::in_flight;
      break;
    default:
      return;
  }
  int64_t before;
  if (thread < kOwnedStripes) [[likely]] {
    std::atomic<int64_t>& n = stripes_[thread].*field;
    before = n.load(std::memory_order_relaxed);
    n.store(before + d, std::memory_order_relaxed);
  } else {
    before = (stripes_[kOwnedStripes].*field).fetch_add(d, std::memory_order_relaxed);
  }
  // The in-flight estimate moves by 64 each time a stripe's count crosses a multiple of 64.
  if (s == SlotState::kInFlight && (before >> 6) != ((before + d) >> 6)) [[unlikely]]
    in_flight_estimate_.fetch_add(d > 0 ? 64 : -64, std::memory_order_relaxed);
}

inline bool MessageStore::Change(Slot& slot, uint64_t& seen, uint64_t next) {
  if ((seen & SlotWord::kReading) != 0) return false;  // its reader's alone
  if (!slot.word.compare_exchange_strong(seen, next, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
    return false;
  }
  const uint32_t thread = Epochs::ThreadNumber();
  Count(thread, SlotWord::state(seen), -1);
  Count(thread, SlotWord::state(next), +1);
  return true;
}

inline bool MessageStore::Claim(Slot& slot, uint64_t& seen, uint32_t receives) {
  const uint64_t next = SlotWord::Next(seen, SlotState::kInFlight, receives) | SlotWord::kReading;
  if (!Change(slot, seen, next)) return false;
  seen = next;
  return true;
}

inline bool MessageStore::Receive(uint32_t i, uint64_t& seen, uint32_t receives, int64_t now,
                                  int64_t until, int64_t retention) {
  if (!Claim(at(i), seen, receives)) return false;
  if (until > now) AddTimer(i, seen, now, until, retention);
  return true;
}

inline size_t MessageStore::PopVisible(SlotRef* out, size_t max) {
  std::array<uint64_t, kMaxPop> entries, words;
  std::array<Slot*, kMaxPop> slots;
  if (max > kMaxPop) max = kMaxPop;
  for (MpmcRing* ring : ready_.both()) {
    for (;;) {
      const size_t n = ring->PopRun(
          [&](uint64_t entry, size_t k) {
            slots[k] = &at(EntrySlot(entry));
            words[k] = slots[k]->word.load(std::memory_order_acquire);
            return true;
          },
          entries.data(), max);
      if (n == 0) break;
      size_t live = 0;
      for (size_t k = 0; k < n; ++k) {
        if (SlotWord::version(words[k]) == EntryStamp(entries[k]) &&
            SlotWord::state(words[k]) == SlotState::kVisible) {
          out[live++] = {EntrySlot(entries[k]), slots[k], words[k]};
        }
      }
      if (live > 0) return live;  // else all were stale: look further
    }
  }
  return 0;
}

template <typename F>
void MessageStore::Clear(F removed) {
  const uint32_t used = used_.load(std::memory_order_acquire);
  for (uint32_t local = 0; local < used; ++local) {
    const uint32_t i = lane_ << kLaneBits | local;
    if (!contains(i)) continue;
    uint64_t seen = at(i).word.load(std::memory_order_acquire);
    while (SlotWord::state(seen) != SlotState::kFree) {
      if ((seen & SlotWord::kReading) != 0) {  // its receiver copies it: a moment
        std::this_thread::yield();
        seen = at(i).word.load(std::memory_order_acquire);
        continue;
      }
      const uint32_t gen = at(i).gen();
      if (Remove(i, seen)) {
        removed(i, gen);
        break;
      }
    }
  }
}

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_MESSAGE_STORE_H_
