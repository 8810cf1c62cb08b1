#include "queue/epochs.h"

#include <atomic>
#include <utility>
#include <vector>

namespace courier::queue_internal {
namespace {

struct Retired {
  void* object;
  void (*deleter)(void*);
};
using Limbo = std::vector<Retired>;

// One per thread that has used a guard; never freed, reused after its thread exits.
struct alignas(64) Record {
  std::atomic<uint64_t> pinned{0};  // the epoch its thread entered in; 0 outside any guard
  std::atomic<bool> in_use{false};
  Record* next = nullptr;  // every record, newest first
  uint32_t number = 0;     // Epochs::ThreadNumber
  // The owning thread's alone:
  uint32_t depth = 0;
  uint32_t retired_since_advance = 0;
  // limbo[e % kLimbos]: retired in epoch limbo_epoch[e % kLimbos]. Three would do (what was
  // retired in e is due at e + 2); four make the index a mask.
  static constexpr int kLimbos = 4;
  Limbo limbo[kLimbos];
  uint64_t limbo_epoch[kLimbos] = {};
  Limbo freeing;  // what Free runs, its buffer kept from one call to the next
  bool in_free = false;
};

// Runs the deleters of `limbo` and empties it. A deleter may retire more (into any limbo, this
// one included), so they run from another vector; `r`'s spare one keeps its capacity, so that a
// thread retiring at a steady rate does not allocate.
void Free(Record* r, Limbo& limbo) {
  if (r == nullptr || r->in_free) {  // an orphan's, or a deleter's nested call
    Limbo due = std::move(limbo);
    limbo.clear();
    for (const Retired& x : due) x.deleter(x.object);
    return;
  }
  r->in_free = true;
  std::swap(limbo, r->freeing);
  for (const Retired& x : r->freeing) x.deleter(x.object);
  r->freeing.clear();
  r->in_free = false;
}

std::atomic<uint64_t> g_epoch{3};
std::atomic<Record*> g_records{nullptr};
std::atomic<uint32_t> g_record_count{0};

// What exited threads had retired, freed by whoever advances the epoch later.
struct Orphan {
  uint64_t epoch;
  Limbo limbo;
  Orphan* next;
};
std::atomic<Orphan*> g_orphans{nullptr};

void Adopt(Orphan* first, Orphan* last) {
  Orphan* head = g_orphans.load(std::memory_order_relaxed);
  do {
    last->next = head;
  } while (!g_orphans.compare_exchange_weak(head, first, std::memory_order_release,
                                            std::memory_order_relaxed));
}

void Orphaned(uint64_t epoch, Limbo limbo) {
  if (limbo.empty()) return;
  auto* o = new Orphan{epoch, std::move(limbo), nullptr};
  Adopt(o, o);
}

void FreeDueOrphans(uint64_t epoch) {
  Orphan* list = g_orphans.exchange(nullptr, std::memory_order_acquire);
  Orphan *kept = nullptr, *kept_last = nullptr;
  while (list != nullptr) {
    Orphan* o = list;
    list = o->next;
    if (o->epoch + 2 <= epoch) {
      Free(nullptr, o->limbo);
      delete o;
    } else {
      o->next = kept;
      kept = o;
      if (kept_last == nullptr) kept_last = o;
    }
  }
  if (kept != nullptr) Adopt(kept, kept_last);
}

Record* AcquireRecord() {
  for (Record* r = g_records.load(std::memory_order_acquire); r != nullptr; r = r->next) {
    bool free = false;
    if (!r->in_use.load(std::memory_order_relaxed) &&
        r->in_use.compare_exchange_strong(free, true, std::memory_order_acquire)) {
      return r;
    }
  }
  auto* r = new Record;
  r->in_use.store(true, std::memory_order_relaxed);
  r->number = g_record_count.fetch_add(1, std::memory_order_relaxed);
  Record* head = g_records.load(std::memory_order_relaxed);
  do {
    r->next = head;
  } while (!g_records.compare_exchange_weak(head, r, std::memory_order_release,
                                            std::memory_order_relaxed));
  return r;
}

}  // namespace

struct EpochsThreadExit {
  static void Forget() { Epochs::t_number = Epochs::kNoNumber; }
};

namespace {

// A trivially destructible pointer, so that it stays usable while other thread-local objects
// are destroyed (they may retire); the owner below gives the record back at thread exit.
thread_local Record* t_record = nullptr;
thread_local bool t_exited = false;

struct RecordOwner {
  ~RecordOwner() {
    Record* r = t_record;
    if (r == nullptr) return;
    for (int k = 0; k < Record::kLimbos; ++k) {
      // A copy: the record keeps its vectors' capacity for the next thread that takes it.
      Orphaned(r->limbo_epoch[k], Limbo(r->limbo[k].begin(), r->limbo[k].end()));
      r->limbo[k].clear();
      r->limbo_epoch[k] = 0;
    }
    r->depth = 0;
    r->retired_since_advance = 0;
    t_record = nullptr;
    t_exited = true;
    EpochsThreadExit::Forget();
    r->in_use.store(false, std::memory_order_release);
  }
};
thread_local RecordOwner t_owner;

[[gnu::noinline]] Record* FirstSelf() {
  (void)&t_owner;  // constructed on first use: it must outlive this thread's guards
  t_record = AcquireRecord();
  return t_record;
}

inline Record* Self() {
  Record* r = t_record;
  return r != nullptr ? r : FirstSelf();
}

void FreeDue(Record& r, uint64_t epoch) {
  for (int k = 0; k < Record::kLimbos; ++k) {
    if (!r.limbo[k].empty() && r.limbo_epoch[k] + 2 <= epoch) Free(&r, r.limbo[k]);
  }
}

// Moves the epoch on if every pinned thread has seen it; returns the epoch now.
uint64_t TryAdvance() {
  uint64_t epoch = g_epoch.load(std::memory_order_seq_cst);
  for (Record* r = g_records.load(std::memory_order_acquire); r != nullptr; r = r->next) {
    const uint64_t pinned = r->pinned.load(std::memory_order_seq_cst);
    if (pinned != 0 && pinned != epoch) return epoch;
  }
  if (g_epoch.compare_exchange_strong(epoch, epoch + 1, std::memory_order_seq_cst)) ++epoch;
  return epoch;
}

}  // namespace

void Epochs::Enter() {
  Record* r = Self();
  if (r->depth++ != 0) return;
  uint64_t epoch = g_epoch.load(std::memory_order_relaxed);
  for (;;) {
    r->pinned.exchange(epoch, std::memory_order_seq_cst);
    // Pinned to an epoch that is still current after the pin is visible: otherwise the epoch
    // could have moved twice between the load and the pin.
    const uint64_t now = g_epoch.load(std::memory_order_seq_cst);
    if (now == epoch) return;
    epoch = now;
  }
}

void Epochs::Leave() {
  Record* r = t_record;
  if (--r->depth == 0) r->pinned.store(0, std::memory_order_release);
}

void Epochs::Retire(void* object, void (*deleter)(void*)) {
  const uint64_t epoch = g_epoch.load(std::memory_order_seq_cst);
  if (t_exited) [[unlikely]] {  // retired by a thread-local destructor after the record went
    Orphaned(epoch, Limbo{{object, deleter}});
    return;
  }
  Record& r = *Self();
  const int k = static_cast<int>(epoch % Record::kLimbos);
  if (r.limbo_epoch[k] != epoch) {  // it holds epoch - 4 or older: free it now
    r.limbo_epoch[k] = epoch;       // first: the deleters may retire more, into it
    Free(&r, r.limbo[k]);
  }
  r.limbo[k].push_back({object, deleter});
  // Often enough that what waits stays small (a queue's removed slots come in batches).
  if (++r.retired_since_advance >= 64) {
    r.retired_since_advance = 0;
    const uint64_t now = TryAdvance();
    FreeDue(r, now);
    FreeDueOrphans(now);
  }
}

uint64_t Epochs::Now() { return g_epoch.load(std::memory_order_seq_cst); }

// What was retired in epoch e is freed at e + 2 (above): every guard entered at e or before has
// been left by then.
bool Epochs::Passed(uint64_t epoch, bool advance) {
  return g_epoch.load(std::memory_order_seq_cst) >= epoch + 2 ||
         (advance && TryAdvance() >= epoch + 2);
}

uint32_t Epochs::FirstThreadNumber() {
  if (t_exited) return kNoNumber;  // a thread-local destructor's late call: no number of its own
  t_number = Self()->number;
  return t_number;
}

void Epochs::Collect() {
  uint64_t epoch = 0;
  for (int i = 0; i < 3; ++i) epoch = TryAdvance();
  if (!t_exited) FreeDue(*Self(), epoch);
  FreeDueOrphans(epoch);
}

}  // namespace courier::queue_internal
