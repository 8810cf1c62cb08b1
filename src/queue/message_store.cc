#include "queue/message_store.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "queue/pages.h"
#include "queue/progress_hook.h"

namespace courier::queue_internal {

static_assert(sizeof(Slot) == 72, "a slot's size is what the memory target rests on");

// ---- Slot ------------------------------------------------------------------------------------

detail::Md5Digest Slot::Md5() const {
  if (!has_md5()) return detail::Md5(body());
  detail::Md5Digest out;
  std::memcpy(out.data(), data, 16);
  return out;
}

int64_t Slot::received_at() const {
  return enqueued() + int64_t{received_ms.load(std::memory_order_relaxed)} * 1000000;
}
int64_t Slot::first_receive() const {
  return enqueued() + int64_t{first_receive_ms.load(std::memory_order_relaxed)} * 1000000;
}
void Slot::SetReceived(int64_t at, bool first) {
  // Rounded up, so that the 12-hour cap on visibility never counts from before the receive.
  const int64_t ms = std::clamp<int64_t>((at - enqueued() + 999999) / 1000000, 0, UINT32_MAX);
  received_ms.store(static_cast<uint32_t>(ms), std::memory_order_relaxed);
  if (first) {
    first_receive_ms.store(static_cast<uint32_t>(std::max<int64_t>((at - enqueued()) / 1000000, 0)),
                           std::memory_order_relaxed);
  }
}

// ---- bodies ------------------------------------------------------------------------------------

namespace {
// Body buffers of removed messages, by size class, for the next sends: a send and a delete then
// cost no call into malloc, which matters most when one thread sends and another deletes (each
// free would go back to the sender's arena, under its lock). Each thread keeps a few dozen per
// class; beyond that, full magazines of kMagazine go to a process-wide depot (a lock-free stack
// per class, bounded) that other threads refill from. Capacities are what malloc gives anyway
// for the size (a 16-byte granule minus its 8-byte header), so pooling costs no memory.
constexpr size_t kClasses = 64;  // capacities up to 1,016 bytes
constexpr size_t kMagazine = 32;
size_t ClassOf(size_t n) { return (n + 8 + 15) / 16; }
size_t CapacityOf(size_t c) { return c * 16 - 8; }

struct Magazine {
  std::array<char*, kMagazine> buffers;
  Magazine* next = nullptr;
};
class Depot {
 public:
  static constexpr int64_t kMaxMagazines = 512;  // per class: 16 Ki buffers
  // Takes ownership of a full magazine; false when the class holds enough already.
  bool Push(size_t c, Magazine* m) {
    if (count_[c].fetch_add(1, std::memory_order_relaxed) >= kMaxMagazines) {
      count_[c].fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    Magazine* head = heads_[c].load(std::memory_order_relaxed);
    do {
      m->next = head;
    } while (!heads_[c].compare_exchange_weak(head, m, std::memory_order_release,
                                              std::memory_order_relaxed));
    return true;
  }
  // A full magazine, or nullptr. The caller holds an Epochs::Guard: a magazine popped by
  // another thread meanwhile is retired, not freed, so reading its `next` is safe, and it
  // cannot come back to the head while we look (no ABA).
  Magazine* Pop(size_t c) {
    Magazine* head = heads_[c].load(std::memory_order_acquire);
    while (head != nullptr &&
           !heads_[c].compare_exchange_weak(head, head->next, std::memory_order_acquire,
                                            std::memory_order_acquire)) {
    }
    if (head != nullptr) count_[c].fetch_sub(1, std::memory_order_relaxed);
    return head;
  }

 private:
  std::array<std::atomic<Magazine*>, kClasses> heads_{};
  std::array<std::atomic<int64_t>, kClasses> count_{};
};
Depot g_depot;

class BodyPool {
 public:
  ~BodyPool() {
    for (auto& buffers : free_)
      for (char* p : buffers) delete[] p;
  }
  char* Take(size_t n) {
    const size_t c = ClassOf(n);
    if (c >= kClasses) return new char[n];
    std::vector<char*>& mine = free_[c];
    if (mine.empty()) {
      Epochs::Guard guard;
      Magazine* m = g_depot.Pop(c);
      if (m == nullptr) return new char[CapacityOf(c)];
      mine.assign(m->buffers.begin(), m->buffers.end());
      Epochs::Retire(m, [](void* p) { delete static_cast<Magazine*>(p); });
    }
    char* p = mine.back();
    mine.pop_back();
    return p;
  }
  void Give(char* p, size_t n) {
    const size_t c = ClassOf(n);
    if (c >= kClasses) {
      delete[] p;
      return;
    }
    std::vector<char*>& mine = free_[c];
    mine.push_back(p);
    if (mine.size() < 2 * kMagazine) return;
    auto* m = new Magazine;
    std::copy(mine.end() - kMagazine, mine.end(), m->buffers.begin());
    mine.resize(mine.size() - kMagazine);
    if (!g_depot.Push(c, m)) {
      for (char* b : m->buffers) delete[] b;
      delete m;
    }
  }

 private:
  std::array<std::vector<char*>, kClasses> free_;
};

// Trivially destructible, so that it can be asked after the pool is gone (a thread-local
// destructor that frees bodies late then frees them plainly).
thread_local BodyPool* t_pool = nullptr;
thread_local bool t_pool_gone = false;
struct BodyPoolOwner {
  BodyPool pool;
  ~BodyPoolOwner() {
    t_pool = nullptr;
    t_pool_gone = true;
  }
};
BodyPool* Pool() {
  if (t_pool == nullptr && !t_pool_gone) [[unlikely]] {
    thread_local BodyPoolOwner owner;
    t_pool = &owner.pool;
  }
  return t_pool;
}
size_t DataSize(const Slot& s) { return (s.has_md5() ? 16 : 0) + s.body_size(); }
}  // namespace

void MessageStore::SetBody(Slot& slot, std::string_view text, const detail::Md5Digest* md5) {
  assert(text.size() <= Slot::kMaxBodySize);
  const size_t prefix = md5 != nullptr ? 16 : 0;
  BodyPool* pool = Pool();
  slot.data = pool != nullptr ? pool->Take(prefix + text.size()) : new char[prefix + text.size()];
  if (md5 != nullptr) std::memcpy(slot.data, md5->data(), 16);
  std::memcpy(slot.data + prefix, text.data(), text.size());
  const uint64_t gen = slot.meta.load(std::memory_order_relaxed) >> 32;
  slot.meta.store(gen << 32 | (md5 != nullptr ? Slot::kHasMd5 : 0) | text.size(),
                  std::memory_order_relaxed);
}

// ---- the late entries ------------------------------------------------------------------------

struct MessageStore::Late {
  struct Due {
    int64_t at;
    uint64_t entry;
    bool operator>(const Due& o) const { return at > o.at; }
  };
  MpmcRing timers;                   // (slot, version): the deadline is the slot's
  MpmcRing expiries;                 // (slot, generation): the enqueue time is the slot's
  std::atomic<uint64_t> pending{0};  // pushed and not yet taken into the heaps
  std::atomic<bool> busy{false};     // the role: who holds it keeps the heaps
  // The heaps' earliest (or lower, while an entry is on its way in).
  std::atomic<int64_t> next_timer{INT64_MAX}, next_enqueued{INT64_MAX};
  // The role holder's:
  std::vector<Due> timer_heap, expiry_heap;  // min-heaps
};

// ---- the slab --------------------------------------------------------------------------------

MessageStore::MessageStore(uint32_t lane) : lane_(lane), late_(std::make_unique<Late>()) {
  lanes_.fill(this);
}

MessageStore::~MessageStore() {
  for (uint32_t k = 0; k < kSegments; ++k) {
    Slot* segment = segments_[k].load();
    if (segment == nullptr) continue;
    for (uint32_t j = 0; j < (kFirstSegment << k); ++j) {
      delete[] segment[j].data;
      delete segment[j].extra;
    }
    std::free(segment);
  }
  for (auto& c : timer_classes_) delete c.load();
}

Slot* MessageStore::SlotOf(uint32_t i) {
  uint32_t segment, offset;
  Locate(i & kLocalMask, segment, offset);
  std::atomic<Slot*>& cell = segments_[segment];
  Slot* first = cell.load(std::memory_order_acquire);
  if (first == nullptr) {
    auto* fresh = static_cast<Slot*>(std::calloc(kFirstSegment << segment, sizeof(Slot)));
    if (fresh == nullptr) {
      std::fputs("courier: out of memory for queue messages\n", stderr);
      std::abort();
    }
    if (cell.compare_exchange_strong(first, fresh, std::memory_order_acq_rel)) {
      first = fresh;
    } else {
      std::free(fresh);
    }
  }
  return first + offset;
}

// ---- released slots, handed back in batches ---------------------------------------------------

namespace {
// Slots a thread released, pushed to their lane's free stack 32 at a time (one CAS).
struct ReleasedBatch {
  std::shared_ptr<MessageStore> store;  // kept alive until the batch is handed back
  uint32_t count = 0;
  std::array<uint32_t, 32> slots;
};
thread_local ReleasedBatch* t_released = nullptr;
// Pushes a batch to its lane's free stack as one chain.
void HandBack(ReleasedBatch* batch) {
  batch->store->HandBackBatch(batch->slots.data(), batch->count);
  delete batch;
}
void HandBackReleased() {
  if (ReleasedBatch* batch = std::exchange(t_released, nullptr)) HandBack(batch);
}
struct ReleasedOwner {
  ~ReleasedOwner() { HandBackReleased(); }
};
}  // namespace

uint32_t MessageStore::Allocate() {
  // First the slots this thread released in this lane and has not handed back: no CAS (one
  // thread that sends and deletes reuses its own slots, warm in its cache).
  if (ReleasedBatch* mine = t_released;
      mine != nullptr && mine->count > 0 && mine->store.get() == this)
    return mine->slots[--mine->count];
  uint64_t head = free_.load(std::memory_order_acquire);
  while (static_cast<uint32_t>(head) != 0) {
    const uint32_t i = static_cast<uint32_t>(head) - 1;
    const auto next = static_cast<uint32_t>(at(i).deadline.load(std::memory_order_relaxed));
    const uint64_t popped = ((head >> 32) + 1) << 32 | next;
    if (free_.compare_exchange_weak(head, popped, std::memory_order_acquire,
                                    std::memory_order_acquire)) {
      return i;
    }
  }
  // Bumped only once the slot's segment exists, so that contains() never finds it missing.
  uint32_t local = used_.load(std::memory_order_relaxed);
  for (;;) {
    if (local >= kCapacity) {
      std::fputs("courier: a queue's lane holds the most messages it can\n", stderr);
      std::abort();
    }
    const uint32_t i = lane_ << kLaneBits | local;
    Slot* s = SlotOf(i);
    if (used_.compare_exchange_weak(local, local + 1, std::memory_order_acq_rel)) {
      // A slot handed out before the lane gave its memory back reads as zeros now: it starts
      // above every generation and version it had (GiveBackIfDrained).
      s->word.store(uint64_t{floor_version_.load(std::memory_order_relaxed)} << 32,
                    std::memory_order_relaxed);
      s->meta.store(uint64_t{floor_gen_.load(std::memory_order_relaxed)} << 32,
                    std::memory_order_relaxed);
      return i;
    }
  }
}

void MessageStore::PushFree(const uint32_t* slots, uint32_t count) {
  if (count == 0) return;
  for (uint32_t k = 0; k + 1 < count; ++k)
    at(slots[k]).deadline.store(slots[k + 1] + 1u, std::memory_order_relaxed);
  PushChain(slots[0], slots[count - 1]);
}

void MessageStore::HandBackBatch(const uint32_t* slots, uint32_t count) {
  PushFree(slots, count);
  // No other thread's batch is left in a lane that a receive found empty (at most one, which
  // may be the next receiver's own): the next receive comes by again (GiveBackIfDrained).
  if (batch_holders_.fetch_sub(1, std::memory_order_acq_rel) <= 2 &&
      used_.load(std::memory_order_relaxed) >= kGiveBackAtLeast &&
      wake_at_.load(std::memory_order_relaxed) != 0) {
    Lower(wake_at_, 0);
  }
}

void MessageStore::PushChain(uint32_t first, uint32_t last) {
  uint64_t head = free_.load(std::memory_order_relaxed);
  for (;;) {
    at(last).deadline.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
    const uint64_t pushed = ((head >> 32) + 1) << 32 | (first + 1u);
    if (free_.compare_exchange_weak(head, pushed, std::memory_order_release,
                                    std::memory_order_relaxed)) {
      return;
    }
  }
}

// Frees a removed slot's message now: no other thread reads a slot's plain fields without
// being its reader (kReading) or its remover.
void MessageStore::Release(uint32_t i, Slot& s) {
  if (BodyPool* pool = Pool()) {
    pool->Give(s.data, DataSize(s));
  } else {
    delete[] s.data;
  }
  s.data = nullptr;
  delete s.extra;
  s.extra = nullptr;
  s.meta.store(((s.meta.load(std::memory_order_relaxed) >> 32) + 1) << 32,
               std::memory_order_relaxed);  // the next tenant's generation
  if (t_released != nullptr && t_released->store.get() != this) HandBackReleased();
  if (t_released == nullptr) [[unlikely]] {
    thread_local ReleasedOwner owner;  // hands the last batch back at thread exit
    t_released = new ReleasedBatch{shared_from_this()};
    StartBatch();
  }
  ReleasedBatch& batch = *t_released;
  batch.slots[batch.count++] = i;
  if (batch.count == batch.slots.size()) HandBackReleased();
}

bool MessageStore::Remove(uint32_t i, Slot& slot, uint64_t& seen) {
  // A free word is a message gone: removing it again would release its slot twice.
  if (SlotWord::state(seen) == SlotState::kFree) return false;
  if (!Change(slot, seen, SlotWord::Next(seen, SlotState::kFree, 0))) return false;
  Release(i, slot);
  return true;
}

void MessageStore::Expire(uint32_t i, uint64_t seen) {
  while (SlotWord::state(seen) != SlotState::kFree) {
    if ((seen & SlotWord::kReading) != 0) {  // its receiver is copying it: a later sweep
      AddLateExpiry(i, at(i).gen());
      return;
    }
    if (Remove(i, seen)) return;
  }
}

bool MessageStore::Take(uint32_t i, uint64_t& seen) {
  return Change(i, seen, SlotWord::Next(seen, SlotState::kFree, 0));
}

void MessageStore::FlushRemoved() {
  HandBackReleased();
  Epochs::Collect();
}

// ---- publishing and timers ----------------------------------------------------------------------

void MessageStore::Publish(uint32_t i, Slot& s, uint32_t receives, int64_t now, int64_t visible_at,
                           int64_t retention, bool in_order) {
  const uint64_t seen = s.word.load(std::memory_order_relaxed);  // free, and ours alone
  const SlotState state = visible_at > now ? SlotState::kDelayed : SlotState::kVisible;
  const uint64_t next = SlotWord::Next(seen, state, receives);
  s.deadline.store(visible_at, std::memory_order_relaxed);
  s.word.store(next, std::memory_order_release);
  Count(state, +1);
  if (!in_order) {
    AddLateExpiry(i, s.gen());
    if (state == SlotState::kDelayed) {
      AddLateTimer(Entry(i, SlotWord::version(next)));
      return;
    }
  } else if (state == SlotState::kDelayed) {
    AddTimer(i, next, now, visible_at, retention);  // an expiry entry if retention ends first
    return;
  }
  PushReady(Entry(i, SlotWord::version(next)));
}

void MessageStore::MakeVisible(uint32_t i, uint64_t next) {
  PushReady(Entry(i, SlotWord::version(next)));
  AddLateExpiry(i, at(i).gen());  // back in the ready order, out of enqueue order
}

bool MessageStore::Reschedule(uint32_t i, uint64_t& seen, int64_t now, int64_t until,
                              int64_t retention) {
  if (until <= now) {
    if (SlotWord::state(seen) == SlotState::kVisible) return true;
    const uint64_t next = SlotWord::Next(seen, SlotState::kVisible, SlotWord::receives(seen));
    if (!Change(i, seen, next)) return false;
    MakeVisible(i, next);
    return true;
  }
  const uint64_t next = SlotWord::Next(seen, SlotState::kInFlight, SlotWord::receives(seen));
  if (!Change(i, seen, next)) return false;
  AddTimer(i, next, now, until, retention);
  return true;
}

// A message that expires before its timer ends also gets an expiry entry: the timer checks
// the expiry only when it ends.
void MessageStore::AddTimers(std::span<const SlotRef> claimed, int64_t now, int64_t at,
                             int64_t retention) {
  assert(claimed.size() <= kMaxPop);
  std::array<uint64_t, kMaxPop> entries;
  for (size_t k = 0; k < claimed.size(); ++k) {
    const auto [i, slot, word] = claimed[k];
    Slot& s = *slot;
    s.deadline.store(at, std::memory_order_relaxed);
    if (retention != INT64_MAX && s.enqueued() + retention < at) [[unlikely]]
      AddLateExpiry(i, s.gen());
    entries[k] = Entry(i, SlotWord::version(word));
  }
  MessageStore& lane = TimerLane();
  lane.PushTimers({entries.data(), claimed.size()}, at - now, *this);
  Lower(lane.wake_at_, at);
  Lower(lane.timers_at_, at);
  Lower(*lane.queue_timers_at_, at);
}

// In this lane's rings, for messages of `owner` (perhaps another lane).
void MessageStore::PushTimers(std::span<const uint64_t> entries, int64_t duration,
                              MessageStore& owner) {
  for (auto& cell : timer_classes_) {
    TimerClass* c = cell.load(std::memory_order_acquire);
    if (c == nullptr) {
      auto* fresh = new TimerClass(duration);
      if (cell.compare_exchange_strong(c, fresh, std::memory_order_acq_rel)) {
        c = fresh;
      } else {
        delete fresh;
      }
    }
    if (c->duration == duration) {
      // Release is enough: a long poll learns of timers from NextTimer, not from a notify.
      if (Owner()) {
        c->rings.owned.PushOwned(entries, std::memory_order_release);
      } else {
        for (uint64_t e : entries) c->rings.shared.Push(e);
      }
      return;
    }
  }
  for (uint64_t e : entries) owner.AddLateTimer(e);  // every class is taken by another duration
}

void MessageStore::AddLateTimer(uint64_t entry) {
  late_->timers.Push(entry);
  late_->pending.fetch_add(1, std::memory_order_seq_cst);
  const int64_t deadline = at(EntrySlot(entry)).deadline.load(std::memory_order_relaxed);
  Lower(late_->next_timer, deadline);
  Lower(wake_at_, 0);           // a sweep takes it into the heaps
  Lower(timers_at_, deadline);  // and fires it when due (FireDueTimers)
  Lower(*queue_timers_at_, deadline);
}

void MessageStore::AddLateExpiry(uint32_t i, uint32_t gen) {
  late_->expiries.Push(Entry(i, gen));
  late_->pending.fetch_add(1, std::memory_order_seq_cst);
  Lower(late_->next_enqueued, at(i).enqueued());
  Lower(wake_at_, 0);
}

// ---- sweeping -----------------------------------------------------------------------------------

void MessageStore::Sweep(int64_t now, int64_t retention, bool timers) {
  if (timers) SweepTimers(now, retention);
  SweepReady(now, retention);
  if (late_->pending.load(std::memory_order_relaxed) != 0 ||
      late_->next_timer.load(std::memory_order_relaxed) <= now ||
      late_->next_enqueued.load(std::memory_order_relaxed) <= now - retention) [[unlikely]] {
    SweepLate(now, retention);
  }
}

// Each word is raised first, then lowered to what it covers, as Settle does: a push that the
// look misses lowers it after the raise.
void MessageStore::FireDueTimers(int64_t now, int64_t retention) {
  SweepTimers(now, retention);
  std::atomic<int64_t>& queue = *queue_timers_at_;
  if (queue.load(std::memory_order_seq_cst) > now) return;
  if (&queue == &timers_at_) {  // a lane alone
    FireLaneTimers(now, retention);
    return;
  }
  queue.store(INT64_MAX, std::memory_order_seq_cst);
  for (MessageStore* lane : lanes_) {
    lane->FireLaneTimers(now, retention);
    Lower(queue, lane->timers_at_.load(std::memory_order_seq_cst));
  }
}

void MessageStore::FireLaneTimers(int64_t now, int64_t retention) {
  if (timers_at_.load(std::memory_order_seq_cst) > now) return;
  timers_at_.store(INT64_MAX, std::memory_order_seq_cst);
  SweepTimers(now, retention);
  // The late timers too (its own messages'): pending ones are taken into the heap now.
  if (late_->pending.load(std::memory_order_seq_cst) != 0 ||
      late_->next_timer.load(std::memory_order_seq_cst) <= now) {
    SweepLate(now, retention);
  }
  if (late_->pending.load(std::memory_order_seq_cst) != 0) {
    Lower(timers_at_, now);  // left to the next receive: the role was taken
  } else if (std::optional<int64_t> next = NextTimer()) {
    Lower(timers_at_, *next);
  }
}

void MessageStore::SweepNow(int64_t now, int64_t retention) {
  Epochs::Guard guard;
  Sweep(now, retention, /*timers=*/false);
}

void MessageStore::Fire(uint32_t i, uint64_t word, int64_t now, int64_t retention) {
  if ((word & SlotWord::kReading) != 0) {  // its receiver still reads it: the next sweep
    AddLateTimer(Entry(i, SlotWord::version(word)));
    return;
  }
  if (at(i).enqueued() + retention <= now) {
    Expire(i, word);
    return;
  }
  (void)Reschedule(i, word, now, now, retention);
}

void MessageStore::SweepTimers(int64_t now, int64_t retention) {
  std::array<uint64_t, kMaxPop> entries, words;
  for (auto& cell : timer_classes_) {
    TimerClass* c = cell.load(std::memory_order_acquire);
    if (c == nullptr) return;
    // Runs of entries that are stale or due, each run taken with one CAS.
    for (MpmcRing* ring : c->rings.both()) {
      for (;;) {
        const size_t n = ring->PopRun(
            [&](uint64_t entry, size_t k) {
              const Slot& s = LaneFor(EntrySlot(entry)).at(EntrySlot(entry));
              words[k] = s.word.load(std::memory_order_acquire);
              return !TimerCurrent(entry, words[k]) ||
                     s.deadline.load(std::memory_order_relaxed) <= now;
            },
            entries.data(), entries.size());
        if (n == 0) break;
        for (size_t k = 0; k < n; ++k) {
          const uint32_t i = EntrySlot(entries[k]);
          if (TimerCurrent(entries[k], words[k])) LaneFor(i).Fire(i, words[k], now, retention);
        }
      }
    }
  }
}

// The ready order's front, while it is stale or expired. Behind a message sent visible that
// has not expired are only younger ones (or those with expiry entries of their own).
void MessageStore::SweepReady(int64_t now, int64_t retention) {
  std::array<uint64_t, kMaxPop> entries, words;
  auto live = [&](uint64_t entry, uint64_t word) {
    return SlotWord::version(word) == EntryStamp(entry) &&
           SlotWord::state(word) == SlotState::kVisible;
  };
  for (MpmcRing* ring : ready_.both()) {
    for (;;) {
      const size_t n = ring->PopRun(
          [&](uint64_t entry, size_t k) {
            const Slot& s = at(EntrySlot(entry));
            words[k] = s.word.load(std::memory_order_acquire);
            return !live(entry, words[k]) || s.enqueued() + retention <= now;
          },
          entries.data(), entries.size());
      if (n == 0) break;
      for (size_t k = 0; k < n; ++k) {
        if (!live(entries[k], words[k])) continue;
        Expire(EntrySlot(entries[k]), words[k]);
      }
    }
  }
}

void MessageStore::SweepLate(int64_t now, int64_t retention) {
  Late& late = *late_;
  if (late.busy.exchange(true, std::memory_order_acquire)) return;  // another thread has it
  auto greater = std::greater<Late::Due>();
  // An entry's slot is read only once its word says the entry is current (a stale entry's slot
  // may be a new message's, being written).
  auto expiry_current = [&](uint64_t e) {
    const Slot& s = at(EntrySlot(e));
    return SlotWord::state(s.word.load(std::memory_order_acquire)) != SlotState::kFree &&
           s.gen() == EntryStamp(e);
  };
  do {
    late.pending.store(0, std::memory_order_seq_cst);
    while (std::optional<uint64_t> e = late.timers.Pop()) {
      if (!TimerCurrent(*e, at(EntrySlot(*e)).word.load(std::memory_order_acquire))) continue;
      late.timer_heap.push_back({at(EntrySlot(*e)).deadline.load(std::memory_order_relaxed), *e});
      std::push_heap(late.timer_heap.begin(), late.timer_heap.end(), greater);
    }
    while (std::optional<uint64_t> e = late.expiries.Pop()) {
      if (!expiry_current(*e)) continue;
      late.expiry_heap.push_back({at(EntrySlot(*e)).enqueued(), *e});
      std::push_heap(late.expiry_heap.begin(), late.expiry_heap.end(), greater);
    }
    // Due, but their receivers still read them: the next sweep.
    std::vector<Late::Due> reading;
    std::vector<uint64_t> reading_expiries;
    while (!late.timer_heap.empty() && late.timer_heap.front().at <= now) {
      const Late::Due due = late.timer_heap.front();
      std::pop_heap(late.timer_heap.begin(), late.timer_heap.end(), greater);
      late.timer_heap.pop_back();
      const uint64_t word = at(EntrySlot(due.entry)).word.load(std::memory_order_acquire);
      if (!TimerCurrent(due.entry, word)) continue;
      if ((word & SlotWord::kReading) != 0) {
        reading.push_back(due);
        continue;
      }
      Fire(EntrySlot(due.entry), word, now, retention);
    }
    for (const Late::Due& due : reading) {
      late.timer_heap.push_back(due);
      std::push_heap(late.timer_heap.begin(), late.timer_heap.end(), greater);
    }
    while (!late.expiry_heap.empty() && late.expiry_heap.front().at <= now - retention) {
      const uint64_t e = late.expiry_heap.front().entry;
      std::pop_heap(late.expiry_heap.begin(), late.expiry_heap.end(), greater);
      late.expiry_heap.pop_back();
      const uint64_t word = at(EntrySlot(e)).word.load(std::memory_order_acquire);
      if (!expiry_current(e)) continue;
      if ((word & SlotWord::kReading) != 0) {
        reading_expiries.push_back(e);
        continue;
      }
      Expire(EntrySlot(e), word);
    }
    for (uint64_t e : reading_expiries) {
      late.expiry_heap.push_back({at(EntrySlot(e)).enqueued(), e});
      std::push_heap(late.expiry_heap.begin(), late.expiry_heap.end(), greater);
    }
    late.next_timer.store(late.timer_heap.empty() ? INT64_MAX : late.timer_heap.front().at,
                          std::memory_order_seq_cst);
    late.next_enqueued.store(late.expiry_heap.empty() ? INT64_MAX : late.expiry_heap.front().at,
                             std::memory_order_seq_cst);
  } while (late.pending.load(std::memory_order_seq_cst) != 0);  // pushed while we worked
  late.busy.store(false, std::memory_order_release);
}

void MessageStore::Shorten(int64_t now, int64_t retention) {
  const uint32_t used = used_.load(std::memory_order_acquire);
  for (uint32_t local = 0; local < used; ++local) {
    const uint32_t i = lane_ << kLaneBits | local;
    if (!contains(i)) continue;
    const Slot& s = at(i);
    const uint64_t word = s.word.load(std::memory_order_acquire);
    const SlotState state = SlotWord::state(word);
    if (state == SlotState::kFree) continue;
    if (s.enqueued() + retention <= now) {
      Expire(i, word);
    } else if ((state == SlotState::kInFlight || state == SlotState::kDelayed) &&
               s.deadline.load(std::memory_order_relaxed) > s.enqueued() + retention) {
      AddLateExpiry(i, s.gen());  // it now expires before its timer ends
    }
  }
}

std::optional<int64_t> MessageStore::NextTimer() {
  int64_t next = late_->next_timer.load(std::memory_order_seq_cst);
  for (auto& cell : timer_classes_) {
    TimerClass* c = cell.load(std::memory_order_acquire);
    if (c == nullptr) break;
    for (MpmcRing* ring : c->rings.both()) {
      int64_t front = INT64_MAX;
      (void)ring->PopIf([&](uint64_t entry) {
        const uint32_t i = EntrySlot(entry);
        front = LaneFor(i).at(i).deadline.load(std::memory_order_relaxed);
        return false;
      });
      next = std::min(next, front);
    }
  }
  if (next == INT64_MAX) return std::nullopt;
  return next;
}

// ---- counts -----------------------------------------------------------------------------------

int64_t MessageStore::Sum(std::atomic<int64_t> Stripe::*field) const {
  int64_t sum = 0;
  for (const Stripe& s : stripes_) sum += (s.*field).load(std::memory_order_relaxed);
  return sum;
}

// Raised first, then lowered to what the lane holds: a push that the look misses lowers it
// after the raise (the store-buffering case, all seq_cst).
void MessageStore::Settle(int64_t retention) {
  wake_at_.store(INT64_MAX, std::memory_order_seq_cst);
  if (ready_.ApproximateSize() != 0 || late_->pending.load(std::memory_order_seq_cst) != 0) {
    Lower(wake_at_, 0);
    return;
  }
  int64_t at = late_->next_timer.load(std::memory_order_seq_cst);
  const int64_t enqueued = late_->next_enqueued.load(std::memory_order_seq_cst);
  if (enqueued != INT64_MAX)
    at = std::min(at, enqueued + std::min(retention, INT64_MAX - enqueued));
  if (std::optional<int64_t> t = NextTimer()) at = std::min(at, *t);
  Lower(wake_at_, at);
}

std::optional<int64_t> MessageStore::OldestVisible() {
  std::optional<int64_t> oldest;
  for (MpmcRing* ring : ready_.both()) {
    // Pops stale entries at the front; stops at the first live one, left in place.
    std::optional<int64_t> front;
    while (ring->PopIf([&](uint64_t entry) {
      const Slot& s = at(EntrySlot(entry));
      const uint64_t word = s.word.load(std::memory_order_acquire);
      if (SlotWord::version(word) != EntryStamp(entry) ||
          SlotWord::state(word) != SlotState::kVisible) {
        return true;
      }
      front = s.enqueued();
      return false;
    })) {
    }
    if (front && (!oldest || *front < *oldest)) oldest = front;
  }
  return oldest;
}

// ---- recovery ---------------------------------------------------------------------------------

void MessageStore::RestoreSlot(uint32_t i, uint32_t gen, bool occupied) {
  (void)occupied;  // an occupied slot is then filled and published by the caller
  const uint32_t local = i & kLocalMask;
  Slot& s = *SlotOf(i);
  s.meta.store(uint64_t{gen} << 32, std::memory_order_relaxed);
  if (used_.load(std::memory_order_relaxed) <= local)
    used_.store(local + 1, std::memory_order_release);
}

void MessageStore::RestoreInFlight(uint32_t i, uint32_t receives, int64_t until) {
  uint64_t seen = at(i).word.load(std::memory_order_relaxed);
  const uint64_t next = SlotWord::Next(seen, SlotState::kInFlight, receives);
  if (!Change(i, seen, next)) return;
  at(i).deadline.store(until, std::memory_order_relaxed);
  AddLateTimer(Entry(i, SlotWord::version(next)));
}

void MessageStore::FinishRestore() {
  for (uint32_t local = used_.load(std::memory_order_relaxed); local-- > 0;) {
    const uint32_t i = lane_ << kLaneBits | local;
    if (Find(i) == nullptr) SlotOf(i);
    if (SlotWord::state(at(i).word.load(std::memory_order_relaxed)) == SlotState::kFree)
      PushFree(&i, 1);
  }
}

// ---- giving memory back ---------------------------------------------------------------------

// The free stack is taken whole, with one CAS: from then on its slots are this thread's
// alone (a sender finds the stack empty and takes a new slot; a stale handle or index entry
// only reads a slot's word, and a free word matches none). If the chain holds every slot the
// lane has handed out, no one else holds any (not a sender filling one, not a receiver
// reading one, not a thread's released batch), so their pages can go. used_ drops to 0 with a
// CAS, after the pages are gone: a sender that took a new slot meanwhile makes it fail, and the
// slots go back to the stack, rebuilt.
//
// The looks before go from the cheapest to the dearest (the counters are on lines that other
// threads write); the walks are paced (GiveBackPacing).
bool MessageStore::GiveBack(int64_t now) {
  const bool mine = t_released != nullptr && t_released->store.get() == this;
  if (!give_back_pacing_.Due(now)) return false;
  if (batch_holders_.load(std::memory_order_acquire) > (mine ? 1u : 0u)) {
    // Another thread's batch holds slots. This one goes back now, so that the last thread to
    // find the lane empty finds no batch but its own (HandBackBatch brings it by again).
    if (mine) HandBackReleased();
    return false;
  }
  if (visible() + in_flight() + delayed() != 0) return false;
  if (mine) HandBackReleased();
  if (!give_back_pacing_.Begin(now)) return false;
  uint64_t taken = free_.load(std::memory_order_relaxed);
  while (!free_.compare_exchange_weak(taken, ((taken >> 32) + 1) << 32, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
  }
  const uint32_t used = used_.load(std::memory_order_acquire);
  uint32_t count = 0, last = 0, max_version = 0, max_gen = 0;
  for (uint32_t link = static_cast<uint32_t>(taken); link != 0; ++count) {
    last = link - 1;
    const Slot& s = at(last);
    max_version = std::max(max_version, SlotWord::version(s.word.load(std::memory_order_relaxed)));
    max_gen = std::max(max_gen, s.gen());
    link = static_cast<uint32_t>(s.deadline.load(std::memory_order_relaxed));
  }
  bool drained = count == used && used > 0;  // and given back, once the last CAS holds
  if (drained) {
    DiscardSlabPages(segments_, kFirstSegment, used);
    floor_version_.store(std::max(floor_version_.load(std::memory_order_relaxed), max_version + 1),
                         std::memory_order_relaxed);
    floor_gen_.store(std::max(floor_gen_.load(std::memory_order_relaxed), max_gen + 1),
                     std::memory_order_relaxed);
    if (high_water_.load(std::memory_order_relaxed) < used)
      high_water_.store(used, std::memory_order_release);
    AtProgressPoint(ProgressPoint::kGiveBack);
    uint32_t expected = used;
    if (!used_.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) {
      Rebuild(used);
      drained = false;
    }
  } else if (count > 0) {
    PushChain(static_cast<uint32_t>(taken) - 1, last);  // in use: all back as it was
  }
  give_back_pacing_.End(
      now, drained ? GiveBackPacing::Outcome::kGaveBack : GiveBackPacing::Outcome::kInUse);
  return drained;
}

// A sender took a new slot after the pages went: the lane is in use again. Its old slots read
// as zeros: each becomes a free slot of the new floors again, in one chain.
void MessageStore::Rebuild(uint32_t slots) {
  const uint64_t word = uint64_t{floor_version_.load(std::memory_order_relaxed)} << 32;
  const uint64_t meta = uint64_t{floor_gen_.load(std::memory_order_relaxed)} << 32;
  const uint32_t first = lane_ << kLaneBits;
  for (uint32_t i = first; i < first + slots; ++i) {
    at(i).word.store(word, std::memory_order_relaxed);
    at(i).meta.store(meta, std::memory_order_relaxed);
    // Linked as PushFree links: the next slot's index + 1, and 0 after the last.
    at(i).deadline.store(i + 1 < first + slots ? i + 2 : 0, std::memory_order_relaxed);
  }
  PushChain(first, first + slots - 1);
}

}  // namespace courier::queue_internal
