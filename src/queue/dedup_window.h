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
// the admission that put it there folds the old one into it: it seals each slot of the old table
// and moves the entries still inside the window (8-byte words; the records they name stay where
// they are). So a shard has one table almost always (two during a fold), and a fold drops what
// left the window, as a growing hash table rehashes.
//
// What keeps one key from being fresh twice when admissions race with a change of generation: an
// admission that looks in an older table seals the slot where its key is or would go there
// (unless no admission can link into that table any more: an epoch's grace after it was
// replaced, Epochs::Passed), and a fold seals every slot. An admission still linking into an
// older table then fails its CAS and starts again from the newest, where it meets the other's
// entry. A reader takes the generations and their tables before it reads any table, so that a
// key a fold moved is in a table it reads (the fold lets its table go only after the moves), or
// the slot where it would be is sealed and sends the reader to a newer generation.
//
// The window holds every key of the last five minutes, far more than fits in a cache, so every
// byte per key counts. A table's slots are 8-byte words: 24 bits of the key's hash (which also
// give its home slot), the time of its admission in 1/64ths of a window (7 bits, so that a fold
// tells what left the window without reading the record), a seal bit, and where the record is. A
// probe compares the hash bits and reads a key only when they match (then it compares the whole
// key: two keys with the same hash stay distinct), and a caller can Prefetch a key's home slot
// early (e.g. before hashing the message body) so that the miss overlaps other work. Records
// (time, value, key) are of their own length, immutable once linked, in 2 MiB blocks of a ring
// per shard, in ranges that tables reserve and claim room in with one fetch_add: 24 bytes for an
// 8-byte value and a key of up to 2 characters, 64 for a UUID. A block goes back to the system an
// epoch's grace after no table names a record in it. Values are trivially copyable: a reader
// copies one out of a record no one changes.
//
// Not lock-free, as they are not on a send's path: unlinking generations and letting blocks go
// (a role taken with an exchange, never waited for by an admission), and Clear, which waits for
// that role.
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
      : window_ns_(absl::ToInt64Nanoseconds(window)),
        unit_ns_(std::max<int64_t>(window_ns_ / 64, 1)) {}
  ~DedupWindow() {
    for (Shard& s : shards_) {
      for (Generation* g = s.newest.load(std::memory_order_relaxed); g != nullptr;) {
        Generation* older = g->older.load(std::memory_order_relaxed);
        Generation::Free(g);
        g = older;
      }
      if (std::atomic<char*>* ring = s.ring.load(std::memory_order_relaxed)) {
        for (size_t b = 0; b < kRingBlocks; ++b) std::free(ring[b].load(std::memory_order_relaxed));
        std::free(ring);
      }
    }
  }
  DedupWindow(const DedupWindow&) = delete;
  DedupWindow& operator=(const DedupWindow&) = delete;

  // The hash Admit and Prefetch take.
  static uint64_t Hash(std::string_view key) {
    return absl::Hash<absl::string_view>{}(absl::string_view(key.data(), key.size()));
  }

  // Starts loading a key's home slot in the newest table into the cache. A hint only: it reads
  // no table, just words that may be stale, and changes nothing. Thread-safe.
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
    return Link(shards_[ShardOf(hash)], key, Tag(hash), now_ns, &make, Moved{});
  }

  // The value of a key inside the window at `now`, if any. Thread-safe.
  std::optional<V> Find(std::string_view key, absl::Time now) { return Find(key, Hash(key), now); }
  std::optional<V> Find(std::string_view key, uint64_t hash, absl::Time now) {
    const int64_t now_ns = absl::ToUnixNanos(now);
    const uint32_t tag = Tag(hash);
    Shard& s = shards_[ShardOf(hash)];
    Epochs::Guard guard;
    for (Chain c; Snapshot(s, c);) {
      bool again = false;
      for (size_t k = 0; k < c.n && !again; ++k) {
        if (c.at[k].table == nullptr) continue;
        const Probe p = Walk(s, *c.at[k].table, tag, key);
        if (p.found && Live(s, p.word, now_ns)) return RecordOf(s, p.word).value;
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
        if (const Table* t = c.at[k].table) {
          n += Entries(t->claimed.load(std::memory_order_relaxed));
        }
      }
    }
    return n;
  }

  // Blocks of records held, in all shards (tests of memory use). Thread-safe.
  size_t blocks() const {
    size_t n = 0;
    for (const Shard& s : shards_) {
      if (const std::atomic<char*>* ring = s.ring.load(std::memory_order_acquire)) {
        for (size_t b = 0; b < kRingBlocks; ++b)
          n += ring[b].load(std::memory_order_relaxed) != nullptr;
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
      // An empty table in place of the newest, alone in the list (a shard that had a table
      // never has none again: the next table's range follows the last one's). If its memory
      // cannot be had, the shard keeps its keys.
      s.clears.fetch_add(1, std::memory_order_seq_cst);
      Generation* old = s.newest.load(std::memory_order_acquire);
      Generation* fresh = nullptr;
      // Taken before the CAS: once `fresh` is the newest, an admission may begin a successor and
      // fold `fresh` into it, leaving its table pointer null (the table itself stays readable
      // under this guard).
      const Table* table = nullptr;
      while (old != nullptr) {
        fresh = MakeGeneration(kFirstSlots, old->end, 0);
        if (fresh == nullptr) break;
        table = fresh->table.load(std::memory_order_relaxed);
        if (s.newest.compare_exchange_strong(old, fresh, std::memory_order_seq_cst)) break;
        Generation::Free(fresh);  // a generation began meanwhile: follow it
        fresh = nullptr;
      }
      AtProgressPoint(ProgressPoint::kClearWindow);
      if (fresh != nullptr) {
        s.slots_view.store(table->slots, std::memory_order_relaxed);
        s.mask_view.store(table->mask, std::memory_order_relaxed);
        // Every block wholly below the new range, once no reader of the old tables is left.
        FreeDueBlocks(s);
        if (s.pending_end.load(std::memory_order_relaxed) <=
            s.freed.load(std::memory_order_relaxed)) {
          s.pending_epoch.store(Epochs::Now(), std::memory_order_relaxed);
          s.pending_end.store(table->base >> kBlockBits, std::memory_order_release);
        }
      }
      s.tidying.store(false, std::memory_order_release);
      for (Generation* g = fresh != nullptr ? old : nullptr; g != nullptr;) {
        Generation* older = g->older.load(std::memory_order_acquire);
        Epochs::Retire(g, &Generation::Free);
        g = older;
      }
    }
  }

 private:
  // 24 bits of the hash, never 0 (a slot whose tag is 0 holds no entry); they give the home slot.
  static uint32_t Tag(uint64_t hash) {
    const uint32_t low = static_cast<uint32_t>(hash) & 0xffffffu;
    return low != 0 ? low : 1;
  }

  // A record: a header, then the key's characters, padded to whole words.
  struct Record {
    int64_t admitted;  // Unix ns
    V value;
    uint16_t size;  // the key's length
    std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), size}; }
  };
  static_assert(alignof(Record) <= 8);
  // The words (8 bytes) a record with a key of n characters takes.
  static constexpr uint64_t Words(size_t n) { return (sizeof(Record) + n + 7) / 8; }
  static constexpr uint64_t kMaxKey = 512;  // longer than any key a queue makes (257)

  // A slot's word: [tag: 24][unit: 7][sealed: 1][record: 32]; 0 is empty. `unit`: the
  // admission's time in units of a 64th of the window, modulo 128. `record`: the low 32 bits
  // of the record's position in the shard's ring. Sealed: no admission may link here any more
  // (an empty slot sealed has tag 0 and the bit alone).
  static constexpr uint64_t kSealed = uint64_t{1} << 32;
  static uint32_t TagOf(uint64_t w) { return static_cast<uint32_t>(w >> 40); }
  static uint32_t UnitOf(uint64_t w) { return static_cast<uint32_t>(w >> 33) & 127; }
  static uint32_t PlaceOf(uint64_t w) { return static_cast<uint32_t>(w); }
  static bool Sealed(uint64_t w) { return (w & kSealed) != 0; }
  uint32_t Unit(int64_t ns) const { return static_cast<uint32_t>(ns / unit_ns_) & 127; }
  uint64_t SlotWord(uint32_t tag, int64_t admitted_ns, uint64_t position) const {
    return uint64_t{tag} << 40 | uint64_t{Unit(admitted_ns)} << 33 | (position & 0xffffffffu);
  }

  // Where a walk along a key's probe stopped: at its entry (found), or at the first slot with
  // none (empty, or sealed empty). `word`: what the slot held.
  struct Probe {
    size_t i;
    uint64_t word;
    bool found;
  };

  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kFirstSlots = 64;
  static constexpr size_t kMostSlots = size_t{1} << 24;  // what 24 bits of hash address
  // The ring of a shard's records: 2^14 blocks of 2^18 words (2 MiB), indexed by the low 32
  // bits of a position, so positions in use span less than 2^32 words (32 GiB).
  static constexpr int kBlockBits = 18;
  static constexpr size_t kRingBlocks = size_t{1} << 14;
  static constexpr uint64_t kRingWords = uint64_t{kRingBlocks} << kBlockBits;

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

  // `claimed`: [entries: 32][words of its range: 32], both taken by one fetch_add.
  static constexpr uint64_t kOneEntry = uint64_t{1} << 32;
  static uint64_t Entries(uint64_t claimed) { return claimed >> 32; }
  static uint64_t WordsOf(uint64_t claimed) { return claimed & 0xffffffffu; }

  // A table of slots, and the range of the ring its admissions' records go to. After it is made
  // only its slots, `claimed` and the lower bounds change, each by atomic steps.
  struct Table {
    std::atomic<uint64_t>* slots = nullptr;
    size_t mask = 0;
    uint64_t max_entries = 0;         // 70 % of the slots: time for a successor
    uint64_t most_entries = 0;        // 90 %: while that successor is under way
    uint64_t base = 0, reserved = 0;  // its range of positions
    // No record an entry names is below min(lowest, folding): `lowest` only goes down (the
    // records a fold moved, or another moves here); `folding` is the folded table's bound
    // until the fold is done.
    std::atomic<uint64_t> lowest{0}, folding{UINT64_MAX};
    alignas(64) std::atomic<uint64_t> claimed{0};

    static Table* Make(size_t slot_count) {
      auto* t = new (std::nothrow) Table;
      if (t == nullptr) return nullptr;
      t->mask = slot_count - 1;
      t->max_entries = slot_count * 7 / 10;
      t->most_entries = slot_count * 9 / 10;
      // Room for 64 bytes a record, less than 2^32 words.
      t->reserved = std::min<uint64_t>(t->most_entries * 8 + 512, uint64_t{1} << 31);
      t->slots = static_cast<std::atomic<uint64_t>*>(AllocZeroed(slot_count * sizeof(uint64_t)));
      if (t->slots == nullptr) {
        delete t;
        return nullptr;
      }
      return t;
    }
    static void Free(void* p) {
      auto* t = static_cast<Table*>(p);
      if (t == nullptr) return;
      std::free(t->slots);
      delete t;
    }
    size_t size() const { return mask + 1; }
    uint64_t Bound() const {  // folding first: a fold lowers `lowest`, then drops `folding`
      const uint64_t f = folding.load(std::memory_order_acquire);
      return std::min(f, lowest.load(std::memory_order_acquire));
    }
    void Lower(uint64_t position) {
      for (uint64_t seen = lowest.load(std::memory_order_relaxed);
           position < seen &&
           !lowest.compare_exchange_weak(seen, position, std::memory_order_acq_rel);) {
      }
    }
  };

  // A table's place in the shard's list of generations, newest first. It outlives its table
  // once that is folded into a newer one, until it is unlinked.
  struct Generation {
    std::atomic<Table*> table{nullptr};
    std::atomic<Generation*> older{nullptr};
    int64_t begun_ns = 0;
    uint64_t end = 0;  // of its table's range: where the next table's begins
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

  struct alignas(64) Shard {
    std::atomic<Generation*> newest{nullptr};
    std::atomic<std::atomic<char*>*> ring{nullptr};  // kRingBlocks blocks, made when first needed
    // Unlinking generations and letting blocks go: one thread at a time, whoever takes it.
    std::atomic<bool> tidying{false};
    // For Prefetch: the newest table's slots (maybe stale).
    std::atomic<const std::atomic<uint64_t>*> slots_view{nullptr};
    std::atomic<size_t> mask_view{0};
    // Blocks below `freed` are gone; those below `pending_end` go once Epochs::Passed
    // `pending_epoch` (written by the role's holder).
    std::atomic<uint64_t> freed{0}, pending_end{0};
    std::atomic<uint64_t> pending_epoch{0};
    // Bumped by each Clear before it replaces the tables: a fold under way stops moving.
    std::atomic<uint64_t> clears{0};
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

  static char* At(const Shard& s, uint32_t place) {
    return s.ring.load(std::memory_order_acquire)[place >> kBlockBits].load(
               std::memory_order_acquire) +
           (place & ((uint32_t{1} << kBlockBits) - 1)) * 8;
  }
  static const Record& RecordOf(const Shard& s, uint64_t slot_word) {
    return *reinterpret_cast<const Record*>(At(s, PlaceOf(slot_word)));
  }
  bool Live(const Shard& s, uint64_t slot_word, int64_t now_ns) const {
    return now_ns < RecordOf(s, slot_word).admitted + window_ns_;
  }
  // Whether an entry is past the window at `now` (whose unit is `now_unit`), from its unit alone
  // but for those 64 or 65 units old, whose records are read: one less than 64 units old is
  // inside the window, one more than 65 past it (one more than 128 old may look younger: it
  // goes at a later fold).
  bool Gone(const Shard& s, uint64_t w, int64_t now_ns, uint32_t now_unit) const {
    const uint32_t age = (now_unit - UnitOf(w)) & 127;
    return age >= 66 || (age >= 64 && !Live(s, w, now_ns));
  }

  // Along the probe of a key with this tag in `t`, from its home or from slot `i`. Ends: at
  // most 90 % of the slots hold entries. `key()` gives the key, asked for only when a slot's tag
  // matches (a fold's key is in a record it would rather not read).
  template <typename Key>
  [[gnu::always_inline]] static Probe WalkBy(const Shard& s, const Table& t, uint32_t tag,
                                             Key&& key, size_t i) {
    for (;; i = (i + 1) & t.mask) {
      const uint64_t w = t.slots[i].load(std::memory_order_acquire);
      if (TagOf(w) == 0) return {i, w, false};
      if (TagOf(w) == tag && RecordOf(s, w).key() == key()) return {i, w, true};
    }
  }
  [[gnu::always_inline]] static Probe Walk(const Shard& s, const Table& t, uint32_t tag,
                                           std::string_view key, size_t i) {
    return WalkBy(
        s, t, tag, [key] { return key; }, i);
  }
  [[gnu::always_inline]] static Probe Walk(const Shard& s, const Table& t, uint32_t tag,
                                           std::string_view key) {
    return Walk(s, t, tag, key, tag & t.mask);
  }

  // Room for a record of `words` in the newest table's range, with an entry when `entry`
  // (below `limit`): its position, or nullopt when the table is full; *out_of_memory when the
  // block could not be made.
  [[gnu::always_inline]] static std::optional<uint64_t> Claim(Shard& s, Table& t, uint64_t words,
                                                              bool entry, uint64_t limit,
                                                              bool* out_of_memory) {
    if (entry && Entries(t.claimed.load(std::memory_order_relaxed)) >= limit) return std::nullopt;
    uint64_t c = t.claimed.fetch_add((entry ? kOneEntry : 0) + words, std::memory_order_relaxed);
    if (entry && Entries(c) >= limit) return std::nullopt;
    for (;;) {
      if (WordsOf(c) + words > t.reserved) return std::nullopt;
      const uint64_t at = t.base + WordsOf(c);
      if ((at >> kBlockBits) == ((at + words - 1) >> kBlockBits)) {
        std::atomic<char*>& block =
            s.ring.load(std::memory_order_relaxed)[(at >> kBlockBits) % kRingBlocks];
        if (block.load(std::memory_order_acquire) == nullptr && !MakeBlock(block)) [[unlikely]] {
          *out_of_memory = true;
          return std::nullopt;
        }
        return at;
      }
      c = t.claimed.fetch_add(words, std::memory_order_relaxed);  // it crossed a block's end
    }
  }
  // In ordinary pages, not a transparent huge one: a table's range ends with room it does not
  // use, and a huge page there would cost 2 MiB for a few records (docs/benchmarks.md).
  [[gnu::noinline]] static bool MakeBlock(std::atomic<char*>& block) {
    char* made = static_cast<char*>(std::malloc(size_t{8} << kBlockBits));
    if (made == nullptr) return false;
    char* seen = nullptr;
    if (!block.compare_exchange_strong(seen, made, std::memory_order_acq_rel)) {
      std::free(made);  // another admission made it first
    }
    return true;
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

  // Frees the blocks whose grace has passed. The role's holder only.
  static void FreeDueBlocks(Shard& s) {
    const uint64_t end = s.pending_end.load(std::memory_order_relaxed);
    uint64_t b = s.freed.load(std::memory_order_relaxed);
    if (end <= b || !Epochs::Passed(s.pending_epoch.load(std::memory_order_relaxed),
                                    /*advance=*/true)) {
      return;
    }
    std::atomic<char*>* ring = s.ring.load(std::memory_order_relaxed);
    for (; b < end; ++b)
      std::free(ring[b % kRingBlocks].exchange(nullptr, std::memory_order_acq_rel));
    s.freed.store(end, std::memory_order_release);
  }

  // Unlinks the folded generations and the oldest when it can go, and lets go of the blocks no
  // table needs, unless another thread is doing it. What it unlinks or lets go stays readable
  // for the readers who found it until their guards end.
  void Tidy(Shard& s, const Chain& c, int64_t now_ns) {
    if (c.n == 1 &&
        s.pending_end.load(std::memory_order_relaxed) <= s.freed.load(std::memory_order_relaxed)) {
      return;  // the usual case: one table, no blocks waiting
    }
    TidyMore(s, c, now_ns);
  }
  [[gnu::noinline]] void TidyMore(Shard& s, const Chain& c, int64_t now_ns) {
    bool needed = c.n > 1 && Droppable(c.at[c.n - 1], now_ns);
    for (size_t k = 1; k + 1 < c.n && !needed; ++k) needed = c.at[k].table == nullptr;
    // Blocks waiting for their grace: moving the epoch on walks every thread's record, so a
    // thread tries that one time in 64.
    needed = needed || (s.pending_end.load(std::memory_order_acquire) >
                            s.freed.load(std::memory_order_relaxed) &&
                        Epochs::Passed(s.pending_epoch.load(std::memory_order_relaxed),
                                       /*advance=*/(++t_tidy_looks & 63) == 0));
    if (!needed || s.tidying.exchange(true, std::memory_order_acquire)) return;
    // Every table pointer before any bound: a fold lowers its successor's bound before it lets
    // its own table go, so a table seen without one is seen with the bound that replaced it.
    // Only the role's holder changes the links below the newest.
    Chain now;
    uint64_t bound = UINT64_MAX;  // no table names a record below it
    if (Snapshot(s, now) && now.n > 0) {
      for (size_t k = 0; k < now.n; ++k) {
        if (now.at[k].table != nullptr) bound = std::min(bound, now.at[k].table->Bound());
      }
      Generation* pred = now.at[0].gen;
      for (size_t k = 1; k < now.n; ++k) {
        const Seen& seen = now.at[k];
        if (seen.table == nullptr || (k + 1 == now.n && Droppable(seen, now_ns))) {
          pred->older.store(seen.gen->older.load(std::memory_order_acquire),
                            std::memory_order_release);
          Epochs::Retire(seen.gen, &Generation::Free);
        } else {
          pred = seen.gen;
        }
      }
    } else {
      bound = 0;  // (more generations than a snapshot holds: let nothing go)
    }
    FreeDueBlocks(s);
    const uint64_t unneeded = bound == UINT64_MAX ? 0 : bound >> kBlockBits;
    if (s.pending_end.load(std::memory_order_relaxed) <= s.freed.load(std::memory_order_relaxed) &&
        unneeded > s.freed.load(std::memory_order_relaxed)) {
      s.pending_epoch.store(Epochs::Now(), std::memory_order_relaxed);
      s.pending_end.store(unneeded, std::memory_order_release);
    }
    s.tidying.store(false, std::memory_order_release);
  }

  // A generation with an empty table of `slot_count` slots whose range begins at `base`; null
  // if its memory cannot be had.
  static Generation* MakeGeneration(size_t slot_count, uint64_t base, int64_t now_ns) {
    auto* g = new (std::nothrow) Generation;
    Table* table = g != nullptr ? Table::Make(slot_count) : nullptr;
    if (table == nullptr) {
      delete g;
      return nullptr;
    }
    table->base = base;
    table->lowest.store(base, std::memory_order_relaxed);
    g->table.store(table, std::memory_order_relaxed);
    g->end = base + table->reserved;
    g->begun_ns = now_ns;
    g->latest_ns.store(now_ns, std::memory_order_relaxed);
    return g;
  }

  static bool TakeReplacing(Generation& g) {
    return !g.replacing.load(std::memory_order_relaxed) &&
           !g.replacing.exchange(true, std::memory_order_acq_rel);
  }

  // Puts a new generation in front of the newest that `c` saw (when it is still the newest):
  // false when its memory cannot be had. Its table is twice the size of what the old one will
  // still hold, and the thread that puts it there folds the old one into it (but in a fold's
  // own admissions, or when no table could be twice as big).
  bool BeginGeneration(Shard& s, const Chain& c, int64_t now_ns);
  void Fold(Shard& s, Generation& from, Table& into, int64_t now_ns);

  // The make() of a move, which never runs.
  struct NoMake {
    V operator()() const { return V{}; }
  };
  // What a fold moves: a slot word, the position of its record, and the shard's count of
  // Clears when the fold began (word 0: an admission's own record).
  struct Moved {
    uint64_t word = 0, position = 0, clears = 0;
  };
  // The admission of `key` at `now`, or the move of an entry a fold took from `skip` (in every
  // generation but that one).
  template <typename Make>
  std::optional<Result> Link(Shard& s, std::string_view key, uint32_t tag, int64_t now_ns,
                             Make* make, Moved moved, const Generation* skip = nullptr);

  static inline thread_local bool t_folding = false;
  static inline thread_local uint32_t t_tidy_looks = 0;

  const int64_t window_ns_;
  const int64_t unit_ns_;  // a 64th of the window
  std::array<Shard, kShards> shards_;
};

template <typename V>
bool DedupWindow<V>::BeginGeneration(Shard& s, const Chain& c, int64_t now_ns) {
  if (c.n + 2 > kMostGenerations) return false;  // generations no fold could keep up with
  Generation* newest = c.n > 0 ? c.at[0].gen : nullptr;
  Table* old = c.n > 0 ? c.at[0].table : nullptr;
  if (s.newest.load(std::memory_order_acquire) != newest) return true;  // another one did
  if (s.ring.load(std::memory_order_acquire) == nullptr) {
    auto* ring = static_cast<std::atomic<char*>*>(std::calloc(kRingBlocks, sizeof(char*)));
    if (ring == nullptr) return false;
    std::atomic<char*>* seen = nullptr;
    if (!s.ring.compare_exchange_strong(seen, ring, std::memory_order_acq_rel)) std::free(ring);
  }
  // Twice what the old table will still hold after the fold: when it is full, twice its size;
  // after a quiet spell, the part of it admitted within the last window (as if spread evenly).
  size_t slot_count = kFirstSlots;
  double held = 0;
  if (old != nullptr) {
    held = static_cast<double>(
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
  const bool fold = old != nullptr && !t_folding && static_cast<double>(slot_count) * 0.35 >= held;
  // Its range of the ring follows the newest's (the CAS below makes it its own), while the
  // positions in use span less than the ring.
  const uint64_t base = newest != nullptr ? newest->end : 0;
  Generation* g = MakeGeneration(slot_count, base, now_ns);
  if (g == nullptr) return false;
  Table* table = g->table.load(std::memory_order_relaxed);
  if (g->end > (s.freed.load(std::memory_order_acquire) << kBlockBits) + kRingWords) {
    Generation::Free(g);
    return false;
  }
  if (fold) table->folding.store(old->Bound(), std::memory_order_relaxed);
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
  if (fold) {
    t_folding = true;
    Fold(s, *newest, *table, now_ns);
    t_folding = false;
  }
  return true;
}

template <typename V>
void DedupWindow<V>::Fold(Shard& s, Generation& from, Table& into, int64_t now_ns) {
  Table& old = *from.table.load(std::memory_order_acquire);
  // No record a table names is in a block given back, and positions in use span less than the
  // ring: a record's position is the one above `floor` with its low 32 bits.
  const uint64_t floor = s.freed.load(std::memory_order_acquire) << kBlockBits;
  const uint32_t now_unit = Unit(now_ns);
  const uint64_t clears = s.clears.load(std::memory_order_seq_cst);
  uint64_t lowest = UINT64_MAX;
  // Room for every entry it may move, taken at once (what it does not move goes back at the
  // end), so that the admissions linking meanwhile still keep the table below 90 %.
  const uint64_t room =
      std::min(Entries(old.claimed.load(std::memory_order_acquire)), into.most_entries);
  const uint64_t before = into.claimed.fetch_add(room * kOneEntry, std::memory_order_relaxed);
  const bool counted = Entries(before) + room <= into.most_entries;  // else each move claims
  if (!counted) into.claimed.fetch_sub(room * kOneEntry, std::memory_order_relaxed);
  uint64_t unused = counted ? room : 0;
  for (size_t i = 0; i < old.size(); ++i) {
    const uint64_t w = old.slots[i].fetch_or(kSealed, std::memory_order_acq_rel);
    if (TagOf(w) == 0 || Gone(s, w, now_ns, now_unit)) continue;
    const uint64_t entry = w & ~kSealed;
    const Moved moved{
        entry, floor + static_cast<uint32_t>(PlaceOf(w) - static_cast<uint32_t>(floor)), clears};
    const uint32_t tag = TagOf(w);
    // Into the table that replaced it (the record stays where it is), unless the key is there
    // already or the slot where it would be is sealed: then wherever an admission would put it.
    std::string_view key;
    auto key_of_w = [&] {
      if (key.empty()) key = RecordOf(s, w).key();
      return key;
    };
    Probe at = WalkBy(s, into, tag, key_of_w, tag & into.mask);
    bool linked = false;
    if (!at.found && !Sealed(at.word) &&
        (counted ? unused > 0
                 : Entries(into.claimed.fetch_add(kOneEntry, std::memory_order_relaxed)) <
                       into.most_entries)) {
      while (!at.found && !Sealed(at.word)) {
        if (into.slots[at.i].compare_exchange_strong(at.word, entry, std::memory_order_acq_rel)) {
          linked = true;
          break;
        }
        if (!Sealed(at.word)) at = WalkBy(s, into, tag, key_of_w, at.i);  // it changed: again
      }
    }
    if (linked) {
      lowest = std::min(lowest, moved.position);
      if (counted) --unused;
      continue;
    }
    if (at.found) continue;
    if (!Link<NoMake>(s, key_of_w(), tag, now_ns, nullptr, moved, &from) ||
        s.clears.load(std::memory_order_relaxed) != clears) {
      return;  // no memory, or a Clear: the old table stays (or goes with the Clear)
    }
  }
  into.claimed.fetch_sub(unused * kOneEntry, std::memory_order_relaxed);
  into.Lower(lowest);
  into.folding.store(UINT64_MAX, std::memory_order_release);
  Table* gone = from.table.exchange(nullptr, std::memory_order_acq_rel);
  Epochs::Retire(gone, &Table::Free);
  Epochs::Collect();  // the table of the fold before, so that a growing window holds no more
}

template <typename V>
template <typename Make>
std::optional<typename DedupWindow<V>::Result> DedupWindow<V>::Link(Shard& s, std::string_view key,
                                                                    uint32_t tag, int64_t now_ns,
                                                                    Make* make, Moved moved,
                                                                    const Generation* skip) {
  const bool own = moved.word == 0;  // an admission's own record, not one a fold moves
  const uint64_t words = Words(key.size());
  Chain c;
  for (;;) {  // once per generation that was the newest when looked at
    if (!Snapshot(s, c)) return std::nullopt;
    if (c.n == 0 || c.at[0].table == nullptr) {  // (a newest has its table: but be sure)
      if (!BeginGeneration(s, c, now_ns)) return std::nullopt;
      continue;
    }
    Table& newest = *c.at[0].table;
    Probe at = Walk(s, newest, tag, key);
    if (at.found && Live(s, at.word, now_ns)) return Result{RecordOf(s, at.word).value, false};
    if (Sealed(at.word)) continue;  // sealed by an admission that saw a newer generation

    // The older generations: a duplicate there, or else (unless no admission can link there
    // any more) seal where the key is or would go.
    for (size_t k = 1; k < c.n; ++k) {
      Table* t = c.at[k].table;
      if (t == nullptr || c.at[k].gen == skip) continue;
      const bool closed = Closed(*c.at[k].gen, /*advance=*/false);
      for (Probe p = Walk(s, *t, tag, key);;) {
        if (p.found && Live(s, p.word, now_ns)) return Result{RecordOf(s, p.word).value, false};
        if (closed || Sealed(p.word) ||
            t->slots[p.i].compare_exchange_strong(p.word, p.word | kSealed,
                                                  std::memory_order_acq_rel)) {
          break;
        }
        p = Walk(s, *t, tag, key, p.i);  // the slot changed: look again from it
      }
    }
    Tidy(s, c, now_ns);

    // Linking into the newest: it may need a successor first. An entry of the key that left
    // the window is replaced in place; else the key takes a slot.
    Generation& gen = *c.at[0].gen;
    if (own && now_ns - gen.begun_ns >= window_ns_ / 2 &&
        Entries(newest.claimed.load(std::memory_order_relaxed)) > 0 && TakeReplacing(gen)) {
      if (!BeginGeneration(s, c, now_ns)) return std::nullopt;
      continue;
    }
    uint64_t entry = moved.word;
    if (own) {
      bool out_of_memory = false;
      std::optional<uint64_t> room =
          Claim(s, newest, words, !at.found, newest.max_entries, &out_of_memory);
      if (!room && !out_of_memory) {  // full: begin the next, or let another do it
        if (TakeReplacing(gen)) {
          if (!BeginGeneration(s, c, now_ns)) return std::nullopt;
          continue;
        }
        room = Claim(s, newest, words, !at.found, newest.most_entries, &out_of_memory);
        if (!room && !out_of_memory) {
          if (!BeginGeneration(s, c, now_ns)) return std::nullopt;
          continue;
        }
      }
      if (out_of_memory) return std::nullopt;
      const V value = (*make)();
      auto* record = new (At(s, static_cast<uint32_t>(*room)))
          Record{now_ns, value, static_cast<uint16_t>(key.size())};
      std::memcpy(record + 1, key.data(), key.size());
      entry = SlotWord(tag, now_ns, *room);
    } else {
      if (!at.found && Entries(newest.claimed.fetch_add(kOneEntry, std::memory_order_relaxed)) >=
                           newest.most_entries) {
        if (!BeginGeneration(s, c, now_ns)) return std::nullopt;
        continue;
      }
      // A Clear since the fold began forgot the key: the fold stops (its tables are gone).
      if (s.clears.load(std::memory_order_seq_cst) != moved.clears) return Result{V{}, false};
      newest.Lower(moved.position);  // before it can be seen, so its block stays
    }
    AtProgressPoint(ProgressPoint::kDeduplicate);
    for (;;) {
      if (newest.slots[at.i].compare_exchange_strong(at.word, entry, std::memory_order_acq_rel)) {
        const int64_t admitted = own ? now_ns : RecordOf(s, entry).admitted;
        std::atomic<int64_t>& latest = gen.latest_ns;
        for (int64_t seen = latest.load(std::memory_order_relaxed);
             seen < admitted &&
             !latest.compare_exchange_weak(seen, admitted, std::memory_order_relaxed);) {
        }
        return Result{RecordOf(s, entry).value, true};
      }
      if (Sealed(at.word)) break;  // a newer generation: start again there
      at = Walk(s, newest, tag, key, at.i);
      if (at.found && Live(s, at.word, now_ns)) {
        return Result{RecordOf(s, at.word).value, false};  // a concurrent duplicate
      }
      if (Sealed(at.word)) break;
    }
  }
}

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_DEDUP_WINDOW_H_
