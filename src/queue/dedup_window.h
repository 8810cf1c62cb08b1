// DedupWindow: remembers keys for a fixed window (SQS FIFO: 5 minutes) so that a second send with
// the same deduplication id is recognised. Clock-free: every call takes `now`. Not API.
//
// A key admitted at t is a duplicate for any admission at t' with t' < t + window, and new again
// from t + window on (4:59.999 is a duplicate, 5:00.000 is not). The entry outlives the message:
// receiving or deleting the first copy does not forget it.
//
// Lock-free: no admission waits for another thread. Keys are sharded by hash; a shard keeps
// generations of insert-only tables, newest first. An admission looks its key up in each, newest
// first, and links a fresh one into the newest with one CAS on the first empty slot of the key's
// probe (or, once the key's entry there has left the window, on that entry). When the newest is
// 70 % full or half a window old, a table twice the size of what it holds takes its place, and
// the admission that put it there folds the old one into it: it seals each slot of the old table,
// copies the admissions still inside the window, and lets the table go. So a shard has one table
// almost always (two during a fold), and a fold drops what left the window, as a growing hash
// table rehashes.
//
// What keeps one key from being fresh twice when admissions race with a change of generation: an
// admission that looks in an older table seals the slot where its key is or would go there
// (unless no admission can link into that table any more: an epoch's grace after it was
// replaced, Epochs::Passed), and a fold seals every slot. An admission still linking into an
// older table then fails its CAS and starts again from the newest, where it meets the other's
// entry. A reader takes the generations and their tables before it reads any table, so that a
// key a fold moved is in a table it reads (the fold lets its table go only after the copies),
// or the slot where it would be is sealed and sends the reader to a newer generation.
//
// The window holds every key of the last five minutes, far more than fits in a cache, so every
// byte per key counts. A table's slots are 8-byte words: 32 bits of the key's hash (which also
// give its home slot) beside where its admission is. A probe compares those bits and reads a key
// only when they match (then it compares the whole key: two keys with the same hash stay
// distinct), and a caller can Prefetch a key's home slot early (e.g. before hashing the message
// body) so that the miss overlaps other work. Admissions (time, value, key) are records of their
// own length, immutable once linked, packed in blocks in which a table claims room with one
// fetch_add: 24 bytes for an 8-byte value and a key of up to 2 characters, 64 for a UUID. Values
// are trivially copyable: a reader copies one out of a record no one changes.
//
// Not lock-free, as they are not on a send's path: unlinking generations that were folded or have
// left the window (a role taken with an exchange, never waited for by an admission), and Clear,
// which waits for that role.
//
// Nothing throws: when memory cannot be had, an admission fails (nullopt) and admits nothing.
//
// Example:
//   queue_internal::DedupWindow<uint64_t> window;
//   window.Admit("id-1", now, [] { return uint64_t{1}; });  // {1, true}
//   window.Admit("id-1", now, [] { return uint64_t{2}; });  // {1, false}
#ifndef COURIER_SRC_QUEUE_DEDUP_WINDOW_H_
#define COURIER_SRC_QUEUE_DEDUP_WINDOW_H_

#include <absl/hash/hash.h>
#include <absl/strings/string_view.h>
#include <absl/time/time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "queue/epochs.h"
#include "queue/progress_hook.h"

namespace courier::queue_internal {

template <typename V>
class DedupWindow {
  static_assert(std::is_trivially_copyable_v<V> && std::is_trivially_destructible_v<V>,
                "a value is copied out of a record that a concurrent reader may be reading");

 public:
  static constexpr size_t kShards = 4;
  // {value, true} for a fresh admission, {the first admission's value, false} for a duplicate.
  using Result = std::pair<V, bool>;

  explicit DedupWindow(absl::Duration window = absl::Minutes(5))
      : window_ns_(absl::ToInt64Nanoseconds(window)) {}
  ~DedupWindow() {
    for (Shard& s : shards_) FreeChain(s.newest.load(std::memory_order_relaxed));
  }
  DedupWindow(const DedupWindow&) = delete;
  DedupWindow& operator=(const DedupWindow&) = delete;

  // The hash Admit and Prefetch take.
  static uint64_t Hash(std::string_view key) {
    return absl::Hash<absl::string_view>{}(absl::string_view(key.data(), key.size()));
  }

  // Starts loading a key's home slot in the newest table into the cache. A hint only: it reads no table, just words that may be stale, and changes
  // nothing. Thread-safe.
  void Prefetch(uint64_t hash) const {
    const Shard& s = shards_[ShardOf(hash)];
    // A stale pointer is harmless: a prefetch never faults.
    if (const std::atomic<uint64_t>* slots = s.slots_view.load(std::memory_order_relaxed)) {
      const std::atomic<uint64_t>* home =
          slots + (Tag(hash) & s.mask_view.load(std::memory_order_relaxed));
      __builtin_prefetch(home, 1);
      // A probe runs on past its home (about six slots at 70%): the next line too.
      __builtin_prefetch(reinterpret_cast<const char*>(home) + 64, 1);
    }
  }

  // If `key` was admitted within the window before `now`, returns {its value, false}. Otherwise
  // remembers make()'s result: {value, true}. make() may also run for an admission that then
  // meets a concurrent duplicate (whose value it returns), so it must have no other effect.
  // nullopt if the memory to remember the key cannot be had. `hash` must be Hash(key) (a test
  // may pass any value: keys are always compared in full). Thread-safe.
  template <typename Make>
  std::optional<Result> Admit(std::string_view key, uint64_t hash, absl::Time now, Make&& make) {
    return AdmitAt(key, hash, absl::ToUnixNanos(now), std::forward<Make>(make));
  }
  template <typename Make>
  std::optional<Result> Admit(std::string_view key, absl::Time now, Make&& make) {
    return Admit(key, Hash(key), now, std::forward<Make>(make));
  }
  // Admit with `now` in Unix nanoseconds.
  template <typename Make>
  std::optional<Result> AdmitAt(std::string_view key, uint64_t hash, int64_t now_ns, Make&& make) {
    if (key.size() > kMaxKey) return std::nullopt;
    Epochs::Guard guard;
    return Link(shards_[ShardOf(hash)], key, Tag(hash), now_ns, now_ns, make, nullptr);
  }

  // The value of a key inside the window at `now`, if any. Thread-safe.
  std::optional<V> Find(std::string_view key, absl::Time now) { return Find(key, Hash(key), now); }
  std::optional<V> Find(std::string_view key, uint64_t hash, absl::Time now) {
    const int64_t now_ns = absl::ToUnixNanos(now);
    const uint32_t tag = Tag(hash);
    Epochs::Guard guard;
    for (Chain c; Snapshot(shards_[ShardOf(hash)], c);) {
      bool again = false;
      for (size_t k = 0; k < c.n && !again; ++k) {
        if (c.at[k].table == nullptr) continue;
        const Probe p = c.at[k].table->Walk(tag, key);
        if (p.found && Live(*c.at[k].table, p.word, now_ns)) {
          return c.at[k].table->AdmissionOf(p.word).value;
        }
        again = k == 0 && Sealed(p.word);  // the newest was replaced: its successor may hold it
      }
      if (!again) break;
    }
    return std::nullopt;
  }

  // Entries in the tables not yet let go (some may be past the window); exact when no admission
  // runs at the same time. Thread-safe.
  size_t size() {
    size_t n = 0;
    Epochs::Guard guard;
    for (Shard& s : shards_) {
      Chain c;
      if (!Snapshot(s, c)) continue;
      for (size_t k = 0; k < c.n; ++k) {
        if (c.at[k].table != nullptr)
          n += Entries(c.at[k].table->claimed.load(std::memory_order_relaxed));
      }
    }
    return n;
  }

  // Forgets every key: an admission that runs at the same time counts as one before it. Waits
  // for a thread that is unlinking generations. Thread-safe.
  void Clear() {
    Epochs::Guard guard;
    for (Shard& s : shards_) {
      while (s.tidying.exchange(true, std::memory_order_acquire)) std::this_thread::yield();
      Generation* g = s.newest.exchange(nullptr, std::memory_order_seq_cst);
      s.slots_view.store(nullptr, std::memory_order_relaxed);
      s.tidying.store(false, std::memory_order_release);
      for (; g != nullptr; g = g->older.load(std::memory_order_acquire)) {
        Epochs::Retire(g, &Generation::Free);
      }
    }
  }

 private:
  // 32 bits of the hash, never 0 (a slot whose tag is 0 holds no entry); the low bits give the
  // home slot.
  static uint32_t Tag(uint64_t hash) {
    const uint32_t low = static_cast<uint32_t>(hash);
    return low != 0 ? low : 1;
  }

  // An admission: a header, then the key's characters, padded to whole words.
  struct Admission {
    int64_t admitted;  // Unix ns
    V value;
    uint16_t size;  // the key's length
    std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), size}; }
  };
  static_assert(alignof(Admission) <= 8);
  // The words (8 bytes) an admission with a key of n characters takes.
  static constexpr uint64_t Words(size_t n) { return (sizeof(Admission) + n + 7) / 8; }
  static constexpr uint64_t kMaxKey = 512;  // longer than any key a queue makes (257)

  // A slot's word: [tag: 32][sealed: 1][admission's word + 1: 31]; 0 is empty. Sealed: no
  // admission may link here any more (an empty slot sealed has tag 0 and the bit alone).
  static constexpr uint64_t kSealed = uint64_t{1} << 31;
  static constexpr uint64_t kMaxWords = kSealed - 1;  // of a table's admissions
  static uint32_t TagOf(uint64_t w) { return static_cast<uint32_t>(w >> 32); }
  static bool Sealed(uint64_t w) { return (w & kSealed) != 0; }
  static uint64_t SlotWord(uint32_t tag, uint64_t word) { return uint64_t{tag} << 32 | (word + 1); }

  // `claimed`: [entries: 32][words: 32], both taken by one fetch_add.
  static constexpr uint64_t kOneEntry = uint64_t{1} << 32;
  static uint64_t Entries(uint64_t claimed) { return claimed >> 32; }
  static uint64_t WordsOf(uint64_t claimed) { return claimed & 0xffffffffu; }

  // Where a walk along a key's probe stopped: at its entry (found), or at the first slot with
  // none (empty, or sealed empty). `word`: what the slot held.
  struct Probe {
    size_t i;
    uint64_t word;
    bool found;
  };

  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kFirstSlots = 64;
  static constexpr size_t kMostSlots = size_t{1} << 27;  // 1 GiB of slots in one table

  // Zeroed memory; in whole transparent huge pages once it is past 256 KiB, since probes are
  // random accesses over megabytes and a TLB miss (a nested page walk in a VM) stalls even the
  // send's early prefetch.
  static void* AllocZeroed(size_t bytes) {
    if (bytes < kHugePage / 8) return std::calloc(1, bytes);
    const size_t whole = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, whole);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p != nullptr) (void)madvise(p, whole, MADV_HUGEPAGE);
#endif
    if (p != nullptr) std::memset(p, 0, bytes);
    return p;
  }

  // A table and the admissions its entries name. After it is made only its slots, blocks and
  // `claimed` change, each by atomic steps.
  struct Table {
    std::atomic<uint64_t>* slots = nullptr;
    size_t mask = 0;
    uint64_t max_entries = 0;   // 70 % of the slots: time for a successor
    uint64_t most_entries = 0;  // 90 %: while that successor is under way
    // Admissions in blocks of 1 << block_bits words, made by the first admission to need one.
    int block_bits = 0;
    size_t block_count = 0;
    std::atomic<char*>* blocks = nullptr;
    alignas(64) std::atomic<uint64_t> claimed{0};

    static Table* Make(size_t slot_count) {
      auto* t = new (std::nothrow) Table;
      if (t == nullptr) return nullptr;
      t->mask = slot_count - 1;
      t->max_entries = slot_count * 7 / 10;
      t->most_entries = slot_count * 9 / 10;
      // Blocks of about a table's worth of 64-byte admissions, from 4 KiB to a huge page.
      const uint64_t bytes =
          std::clamp<uint64_t>(std::bit_ceil(t->max_entries * 64), 4096, kHugePage);
      t->block_bits = std::countr_zero(bytes / 8);
      const uint64_t words = std::min<uint64_t>(t->max_entries * Words(kMaxKey), kMaxWords);
      t->block_count = static_cast<size_t>((words >> t->block_bits) + 1);
      t->slots = static_cast<std::atomic<uint64_t>*>(AllocZeroed(slot_count * sizeof(uint64_t)));
      t->blocks = static_cast<std::atomic<char*>*>(std::calloc(t->block_count, sizeof(char*)));
      if (t->slots == nullptr || t->blocks == nullptr) {
        Free(t);
        return nullptr;
      }
      return t;
    }
    static void Free(void* p) {
      auto* t = static_cast<Table*>(p);
      if (t == nullptr) return;
      for (size_t b = 0; t->blocks != nullptr && b < t->block_count; ++b) {
        std::free(t->blocks[b].load(std::memory_order_relaxed));
      }
      std::free(t->blocks);
      std::free(t->slots);
      delete t;
    }

    size_t size() const { return mask + 1; }
    char* At(uint64_t word) const {
      return blocks[word >> block_bits].load(std::memory_order_acquire) +
             (word & ((uint64_t{1} << block_bits) - 1)) * 8;
    }
    const Admission& AdmissionOf(uint64_t slot_word) const {
      return *reinterpret_cast<const Admission*>(At((slot_word & kMaxWords) - 1));
    }
    // Along the probe of a key with this tag, from its home or from slot `i`. Ends: at most
    // 90 % of the slots hold entries.
    [[gnu::always_inline]] Probe Walk(uint32_t tag, std::string_view key) const {
      return Walk(tag, key, tag & mask);
    }
    [[gnu::always_inline]] Probe Walk(uint32_t tag, std::string_view key, size_t i) const {
      for (;; i = (i + 1) & mask) {
        const uint64_t w = slots[i].load(std::memory_order_acquire);
        if (TagOf(w) == 0) return {i, w, false};
        if (TagOf(w) == tag && AdmissionOf(w).key() == key) return {i, w, true};
      }
    }
    // Claims room for an admission of `words` and, when `entry`, an entry below `limit`; null if
    // the table is full (when `entry`: its entries) or memory ran out (*out_of_memory).
    [[gnu::always_inline]] char* Claim(uint64_t words, bool entry, uint64_t limit, uint64_t* at,
                                       bool* out_of_memory) {
      if (entry && Entries(claimed.load(std::memory_order_relaxed)) >= limit) return nullptr;
      uint64_t c = claimed.fetch_add((entry ? kOneEntry : 0) + words, std::memory_order_relaxed);
      if (entry && Entries(c) >= limit) return nullptr;
      for (;;) {
        *at = WordsOf(c);
        const uint64_t block = *at >> block_bits;
        if (*at + words > kMaxWords || block >= block_count) return nullptr;
        if ((*at + words - 1) >> block_bits == block) break;
        c = claimed.fetch_add(words, std::memory_order_relaxed);  // it crossed a block's end
      }
      const uint64_t block = *at >> block_bits;
      char* b = blocks[block].load(std::memory_order_acquire);
      if (b == nullptr) [[unlikely]] {
        b = MakeBlock(block);
        if (b == nullptr) {
          *out_of_memory = true;
          return nullptr;
        }
      }
      return b + (*at & ((uint64_t{1} << block_bits) - 1)) * 8;
    }
    // The block, made now unless another admission made it first; null if memory ran out.
    [[gnu::noinline]] char* MakeBlock(uint64_t block) {
      const size_t bytes = size_t{8} << block_bits;
      char* made = static_cast<char*>(bytes >= kHugePage ? std::aligned_alloc(kHugePage, bytes)
                                                         : std::malloc(bytes));
      if (made == nullptr) return nullptr;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
      if (bytes >= kHugePage) (void)madvise(made, bytes, MADV_HUGEPAGE);
#endif
      char* b = nullptr;
      if (blocks[block].compare_exchange_strong(b, made, std::memory_order_acq_rel)) return made;
      std::free(made);  // another admission made it first
      return b;
    }
  };

  // A table's place in the shard's list of generations, newest first. It outlives its table
  // once that is folded into a newer one, until it is unlinked.
  struct Generation {
    std::atomic<Table*> table{nullptr};
    std::atomic<Generation*> older{nullptr};
    int64_t begun_ns = 0;
    // Epochs::Now() right after a newer generation took its place (0 before): it is closed
    // once Epochs::Passed that, and no admission links into it any more.
    std::atomic<uint64_t> replaced_epoch{0};
    std::atomic<bool> closed{false};  // seen to be, once
    // Taken by the admission that begins the next generation. The others go on linking here
    // meanwhile, up to 90 % full, and only then begin one too (none waits for another).
    std::atomic<bool> replacing{false};
    // The latest admission time linked into the table, at least begun_ns: final once closed.
    // On a line of its own, away from what every admission reads.
    alignas(64) std::atomic<int64_t> latest_ns{0};

    static void Free(void* p) {
      auto* g = static_cast<Generation*>(p);
      Table::Free(g->table.load(std::memory_order_relaxed));
      delete g;
    }
  };
  static void FreeChain(Generation* g) {
    while (g != nullptr) {
      Generation* older = g->older.load(std::memory_order_relaxed);
      Generation::Free(g);
      g = older;
    }
  }

  struct alignas(64) Shard {
    std::atomic<Generation*> newest{nullptr};
    // Unlinking generations: one thread at a time, whoever takes it (Tidy).
    std::atomic<bool> tidying{false};
    // For Prefetch: the newest table's slots (maybe stale).
    std::atomic<const std::atomic<uint64_t>*> slots_view{nullptr};
    std::atomic<size_t> mask_view{0};
  };

  // The generations of a shard as one call sees them, each with the table it had: every link
  // and table pointer is read before any table is (see the top of the file).
  static constexpr size_t kMostGenerations = 64;
  struct Seen {
    Generation* gen;
    Table* table;
  };
  struct Chain {
    std::array<Seen, kMostGenerations> at;
    size_t n = 0;
  };
  // False if there are more than kMostGenerations (BeginGeneration keeps it from happening).
  static bool Snapshot(const Shard& s, Chain& c) {
    c.n = 0;
    for (Generation* g = s.newest.load(std::memory_order_seq_cst); g != nullptr;) {
      if (c.n == kMostGenerations) return false;
      Generation* older = g->older.load(std::memory_order_acquire);
      c.at[c.n++] = {g, g->table.load(std::memory_order_acquire)};
      g = older;
    }
    return true;
  }

  // The top bits choose the shard; the low bits (the tag's) the slot in its tables.
  static size_t ShardOf(uint64_t hash) { return static_cast<size_t>(hash >> 60) % kShards; }

  bool Live(const Table& t, uint64_t slot_word, int64_t now_ns) const {
    return now_ns < t.AdmissionOf(slot_word).admitted + window_ns_;
  }

  // Whether no admission can link into `g` any more (after one that is still under way has).
  // `advance`: move the epoch on if that is what it waits for (a drop; an admission's look
  // leaves that to the threads that retire).
  static bool Closed(Generation& g, bool advance) {
    if (g.closed.load(std::memory_order_acquire)) return true;
    const uint64_t replaced = g.replaced_epoch.load(std::memory_order_acquire);
    if (replaced == 0 || !Epochs::Passed(replaced, advance)) return false;
    g.closed.store(true, std::memory_order_release);
    return true;
  }

  // Whether the oldest generation can go: folded, or closed with every key out of the window.
  bool Droppable(const Seen& g, int64_t now_ns) const {
    if (g.table == nullptr) return true;
    return now_ns >= g.gen->latest_ns.load(std::memory_order_relaxed) + window_ns_ &&
           Closed(*g.gen, /*advance=*/true) &&
           now_ns >= g.gen->latest_ns.load(std::memory_order_acquire) + window_ns_;
  }

  // Unlinks the folded generations, and the oldest when it can go, unless another thread is
  // doing it. Unlinking a generation leaves it to the readers who found it until they are done.
  void Tidy(Shard& s, const Chain& c, int64_t now_ns) {
    bool needed = c.n > 1 && Droppable(c.at[c.n - 1], now_ns);
    for (size_t k = 1; k + 1 < c.n && !needed; ++k) needed = c.at[k].table == nullptr;
    if (!needed || s.tidying.exchange(true, std::memory_order_acquire)) return;
    Generation* pred = s.newest.load(std::memory_order_acquire);
    for (Generation* g = pred != nullptr ? pred->older.load(std::memory_order_acquire) : nullptr;
         g != nullptr;) {
      Generation* older = g->older.load(std::memory_order_acquire);
      const Seen seen{g, g->table.load(std::memory_order_acquire)};
      if (seen.table == nullptr || (older == nullptr && Droppable(seen, now_ns))) {
        pred->older.store(older, std::memory_order_release);
        Epochs::Retire(g, &Generation::Free);
      } else {
        pred = g;
      }
      g = older;
    }
    s.tidying.store(false, std::memory_order_release);
  }

  static bool TakeReplacing(Generation& g) {
    return !g.replacing.load(std::memory_order_relaxed) &&
           !g.replacing.exchange(true, std::memory_order_acq_rel);
  }

  // Puts a new generation in front of `newest` (when it is still the newest): false when its
  // memory cannot be had. Its table is twice the size of what `newest` holds, and the thread
  // that puts it there folds `newest` into it (but in a fold's own admissions).
  bool BeginGeneration(Shard& s, const Chain& c, int64_t now_ns);
  void Fold(Shard& s, Generation& from, Table& table, int64_t now_ns);

  // The admission of `key` at `now` (or, for a fold, the one made at `admitted` that it moves,
  // in every generation but `skip`).
  template <typename Make>
  std::optional<Result> Link(Shard& s, std::string_view key, uint32_t tag, int64_t now_ns,
                             int64_t admitted_ns, Make&& make, const Generation* skip);

  static inline thread_local bool t_folding = false;

  const int64_t window_ns_;
  std::array<Shard, kShards> shards_;
};

template <typename V>
bool DedupWindow<V>::BeginGeneration(Shard& s, const Chain& c, int64_t now_ns) {
  if (c.n + 2 > kMostGenerations) return false;  // generations no fold could keep up with
  Generation* newest = c.n > 0 ? c.at[0].gen : nullptr;
  Table* old = c.n > 0 ? c.at[0].table : nullptr;
  if (s.newest.load(std::memory_order_acquire) != newest) return true;  // another one did
  // Twice what the old table will still hold after the fold: when it is full, twice its size;
  // after a quiet spell, the part of it admitted within the last window (as if spread evenly).
  size_t slot_count = kFirstSlots;
  if (old != nullptr) {
    double held = static_cast<double>(
        std::min(Entries(old->claimed.load(std::memory_order_relaxed)), old->max_entries));
    const int64_t latest = newest->latest_ns.load(std::memory_order_relaxed);
    if (now_ns >= latest + window_ns_) {
      held = 0;
    } else if (latest > newest->begun_ns) {
      const double live = static_cast<double>(latest + window_ns_ - now_ns) /
                          static_cast<double>(latest - newest->begun_ns);
      held *= std::clamp(live, 0.0, 1.0);
    }
    while (slot_count < kMostSlots && static_cast<double>(slot_count) * 0.35 < held) {
      slot_count *= 2;
    }
  }
  auto* g = new (std::nothrow) Generation;
  Table* table = g != nullptr ? Table::Make(slot_count) : nullptr;
  if (table == nullptr) {
    delete g;
    return false;
  }
  g->table.store(table, std::memory_order_relaxed);
  g->begun_ns = now_ns;
  g->latest_ns.store(now_ns, std::memory_order_relaxed);
  g->older.store(newest, std::memory_order_relaxed);
  Generation* seen = newest;
  if (!s.newest.compare_exchange_strong(seen, g, std::memory_order_seq_cst)) {
    Generation::Free(g);  // another admission began one first (or a Clear ran)
    return true;
  }
  s.slots_view.store(table->slots, std::memory_order_relaxed);
  s.mask_view.store(table->mask, std::memory_order_relaxed);
  if (newest == nullptr) return true;
  newest->replaced_epoch.store(Epochs::Now(), std::memory_order_release);
  if (!t_folding && old != nullptr) {
    t_folding = true;
    Fold(s, *newest, *table, now_ns);
    t_folding = false;
  }
  return true;
}

template <typename V>
void DedupWindow<V>::Fold(Shard& s, Generation& from, Table& table, int64_t now_ns) {
  Table& old = *from.table.load(std::memory_order_acquire);
  for (size_t i = 0; i < old.size(); ++i) {
    const uint64_t w = old.slots[i].fetch_or(kSealed, std::memory_order_acq_rel);
    if (TagOf(w) == 0 || !Live(old, w, now_ns)) continue;
    const Admission& a = old.AdmissionOf(w);
    const std::string_view key = a.key();
    const uint32_t tag = TagOf(w);
    // Into the table that replaced it, unless the key is there already or the slot where it
    // would be is sealed: then wherever an admission would put it now.
    Probe at = table.Walk(tag, key);
    bool linked = at.found;
    if (!linked && !Sealed(at.word)) {
      uint64_t word = 0;
      bool out_of_memory = false;
      char* room = table.Claim(Words(key.size()), true, table.most_entries, &word, &out_of_memory);
      if (out_of_memory) return;  // the old table stays, and with it the key
      if (room != nullptr) {
        auto* copy = new (room) Admission{a.admitted, a.value, a.size};
        std::memcpy(copy + 1, key.data(), key.size());
        const uint64_t entry = SlotWord(tag, word);
        while (!linked && !Sealed(at.word)) {
          if (table.slots[at.i].compare_exchange_strong(at.word, entry,
                                                        std::memory_order_acq_rel)) {
            linked = true;
          } else if (!Sealed(at.word)) {
            at = table.Walk(tag, key, at.i);
            linked = at.found;
          }
        }
      }
    }
    const V value = a.value;
    if (!linked && !Link(
                       s, key, tag, now_ns, a.admitted, [&] { return value; }, &from)) {
      return;  // no memory: the old table stays, and with it the key
    }
  }
  Table* gone = from.table.exchange(nullptr, std::memory_order_acq_rel);
  Epochs::Retire(gone, &Table::Free);
  Epochs::Collect();  // the table of the fold before, so that a growing window holds no more
}

template <typename V>
template <typename Make>
std::optional<typename DedupWindow<V>::Result> DedupWindow<V>::Link(Shard& s, std::string_view key,
                                                                    uint32_t tag, int64_t now_ns,
                                                                    int64_t admitted_ns,
                                                                    Make&& make,
                                                                    const Generation* skip) {
  const uint64_t words = Words(key.size());
  Chain c;
  for (;;) {  // once per generation that was the newest when looked at
    if (!Snapshot(s, c)) return std::nullopt;
    if (c.n == 0 || c.at[0].table == nullptr) {  // (a newest has its table: but be sure)
      if (!BeginGeneration(s, c, now_ns)) return std::nullopt;
      continue;
    }
    Table& newest = *c.at[0].table;
    Probe at = newest.Walk(tag, key);
    if (at.found && Live(newest, at.word, now_ns)) {
      return Result{newest.AdmissionOf(at.word).value, false};
    }
    if (Sealed(at.word)) continue;  // sealed by an admission that saw a newer generation

    // The older generations: a duplicate there, or else (unless no admission can link there
    // any more) seal where the key is or would go.
    for (size_t k = 1; k < c.n; ++k) {
      Table* t = c.at[k].table;
      if (t == nullptr || c.at[k].gen == skip) continue;
      const bool closed = Closed(*c.at[k].gen, /*advance=*/false);
      for (Probe p = t->Walk(tag, key);;) {
        if (p.found && Live(*t, p.word, now_ns)) return Result{t->AdmissionOf(p.word).value, false};
        if (closed || Sealed(p.word) ||
            t->slots[p.i].compare_exchange_strong(p.word, p.word | kSealed,
                                                  std::memory_order_acq_rel)) {
          break;
        }
        p = t->Walk(tag, key, p.i);  // the slot changed: look again from it
      }
    }
    Tidy(s, c, now_ns);

    // Linking into the newest: it may need a successor first. An entry of the key that left
    // the window is replaced in place; else the key takes a slot.
    Generation& gen = *c.at[0].gen;
    if (skip == nullptr && now_ns - gen.begun_ns >= window_ns_ / 2 &&
        Entries(newest.claimed.load(std::memory_order_relaxed)) > 0 && TakeReplacing(gen)) {
      if (!BeginGeneration(s, c, now_ns)) return std::nullopt;
      continue;
    }
    uint64_t word = 0;
    bool out_of_memory = false;
    char* room = newest.Claim(words, !at.found, newest.max_entries, &word, &out_of_memory);
    if (room == nullptr && !out_of_memory) {  // full: begin the next, or let another do it
      if (TakeReplacing(gen)) {
        if (!BeginGeneration(s, c, now_ns)) return std::nullopt;
        continue;
      }
      room = newest.Claim(words, !at.found, newest.most_entries, &word, &out_of_memory);
      if (room == nullptr && !out_of_memory) {
        if (!BeginGeneration(s, c, now_ns)) return std::nullopt;
        continue;
      }
    }
    if (out_of_memory) return std::nullopt;
    const V value = make();
    auto* admission = new (room) Admission{admitted_ns, value, static_cast<uint16_t>(key.size())};
    std::memcpy(admission + 1, key.data(), key.size());
    const uint64_t entry = SlotWord(tag, word);
    AtProgressPoint(ProgressPoint::kDeduplicate);
    for (;;) {
      if (newest.slots[at.i].compare_exchange_strong(at.word, entry, std::memory_order_acq_rel)) {
        std::atomic<int64_t>& latest = c.at[0].gen->latest_ns;
        for (int64_t seen = latest.load(std::memory_order_relaxed);
             seen < admitted_ns &&
             !latest.compare_exchange_weak(seen, admitted_ns, std::memory_order_relaxed);) {
        }
        return Result{value, true};
      }
      if (Sealed(at.word)) break;  // a newer generation: start again there
      at = newest.Walk(tag, key, at.i);
      if (at.found && Live(newest, at.word, now_ns)) {
        return Result{newest.AdmissionOf(at.word).value, false};  // a concurrent duplicate
      }
      if (Sealed(at.word)) break;
    }
  }
}

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_DEDUP_WINDOW_H_
