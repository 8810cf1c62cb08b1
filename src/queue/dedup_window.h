// DedupWindow: remembers keys for a fixed window (SQS FIFO: 5 minutes) so that a second send with
// the same deduplication id is recognised. Clock-free: every call takes `now`. Not API.
//
// A key admitted at t is a duplicate for any admission at t' with t' < t + window, and new again
// from t + window on (4:59.999 is a duplicate, 5:00.000 is not). The entry outlives the message:
// receiving or deleting the first copy does not forget it. Sharded by hash with a lock per shard;
// expired entries are dropped by the next admission to their shard, oldest first.
//
// The window holds every key of the last five minutes, far more than fits in a cache, and a
// growing window takes fresh pages that the kernel must zero, so every byte per key counts. Each
// shard's index is an open-addressing table of 8-byte entries: 32 bits of the key's hash (which
// also give its home slot) beside the number of its admission. A probe compares those bits and
// reads a key only when they match (then it compares the whole key: two keys with the same hash
// stay distinct), growing never reads keys, and a caller can Prefetch a key's slot early (e.g.
// before hashing the message body) so that the miss overlaps other work. Admissions (time, value,
// key) are records of their own length, packed in a ring of blocks per shard whose memory is
// reused as the window moves (no allocation per send, not even for a long key; no new pages once
// the window is full): 32 bytes for an 8-byte value and a key of up to 8 characters, 64 for a
// UUID.
//
// Nothing throws: when memory cannot be had, an admission fails (nullopt) and changes nothing.
//
// Example:
//   queue_internal::DedupWindow<std::string> window;
//   window.Admit("id-1", now, [] { return std::string("m1"); });  // {"m1", true}
//   window.Admit("id-1", now, [] { return std::string("m2"); });  // {"m1", false}
#ifndef COURIER_SRC_QUEUE_DEDUP_WINDOW_H_
#define COURIER_SRC_QUEUE_DEDUP_WINDOW_H_

#include <absl/hash/hash.h>
#include <absl/strings/string_view.h>
#include <absl/time/time.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>
#include <string_view>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "queue/adaptive_mutex.h"

namespace courier::queue_internal {

template <typename V>
class DedupWindow {
 public:
  static constexpr size_t kShards = 4;
  // {value, true} for a fresh admission, {the first admission's value, false} for a duplicate.
  using Result = std::pair<V, bool>;

  explicit DedupWindow(absl::Duration window = absl::Minutes(5))
      : window_ns_(absl::ToInt64Nanoseconds(window)) {}
  DedupWindow(const DedupWindow&) = delete;
  DedupWindow& operator=(const DedupWindow&) = delete;

  // The hash Admit and Prefetch take.
  static uint64_t Hash(std::string_view key) {
    return absl::Hash<absl::string_view>{}(absl::string_view(key.data(), key.size()));
  }

  // Starts loading the index slot of a key with this hash into the cache. A hint only: it takes
  // no lock and has no effect on the window's contents. Thread-safe.
  void Prefetch(uint64_t hash) const {
    const Shard& s = shards_[ShardOf(hash)];
    const Entry* table = s.table_view.load(std::memory_order_relaxed);
    const size_t mask = s.mask_view.load(std::memory_order_relaxed);
    // A stale pointer is harmless: a prefetch never faults.
    if (table != nullptr) {
      const Entry* home = table + (Tag(hash) & mask);
      __builtin_prefetch(home, 1);
      // A probe runs on past its home (about six slots at 70%): the next line too.
      __builtin_prefetch(reinterpret_cast<const char*>(home) + 64, 1);
    }
    // And where the admission would go: fresh memory, read for ownership on first store.
    if (const char* next = s.next_view.load(std::memory_order_relaxed); next != nullptr) {
      __builtin_prefetch(next, 1);
      __builtin_prefetch(next + 63, 1);
    }
  }

  // If `key` was admitted within the window before `now`, returns {its value, false}. Otherwise
  // calls make() and remembers its result: {value, true}. make() runs under the shard's lock, so
  // a concurrent duplicate waits for it and then sees its value. nullopt, without calling
  // make(), if the memory to remember the key cannot be had. `hash` must be Hash(key) (a test
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
    Shard& s = shards_[ShardOf(hash)];
    const uint32_t tag = Tag(hash);
    std::lock_guard lock(s.mu);
    ExpireLocked(s, now_ns);
    size_t slot = 0;  // the key's slot, or the empty one where its probe ended
    Entry* e = FindLocked(s, tag, key, &slot);
    if (e != nullptr && now_ns < AdmissionOf(s, *e).admitted + window_ns_) {
      return Result{AdmissionOf(s, *e).value, false};
    }
    // Everything that can fail comes before make(): a failed admission changes nothing (but
    // the padding that moves it to a new block).
    const uint64_t words = Words(key.size());
    bool ok = s.tail - s.head + 2 * kBlockWords < kMaxLive;  // index numbers are 32 bits
    if (ok && e == nullptr && (s.count + 1) * 10 > s.table.size() * 7) {
      ok = GrowTable(s);
      if (ok) slot = EmptySlotLocked(s, tag);
    }
    if (ok) {
      const uint64_t offset = s.tail % kBlockWords;
      if (offset != 0 && offset + words > kBlockWords) {         // no room left in this block
        std::memcpy(s.At(s.tail), &kPadding, sizeof(kPadding));  // there is a word at least
        s.tail += kBlockWords - offset;
      }
      if (s.tail % kBlockWords == 0) ok = AddBlockLocked(s);
    }
    if (!ok) return std::nullopt;
    V value = make();
    const uint64_t number = s.tail;
    s.tail += words;
    // Constructed in place: the memory is raw (fresh, or its admission expired), never read
    // first, which a send would wait for as a cache miss.
    char* at = s.At(number);
    new (at) Admission(now_ns, value, tag, static_cast<uint16_t>(key.size()));
    std::memcpy(at + sizeof(Admission), key.data(), key.size());
    s.next_view.store(s.tail % kBlockWords != 0 ? s.At(s.tail) : nullptr,
                      std::memory_order_relaxed);
    if (e != nullptr) {
      e->number = static_cast<uint32_t>(number);  // the old admission's key may go before this
    } else {
      s.table[slot] = Entry{tag, static_cast<uint32_t>(number)};
      ++s.count;
    }
    return Result{std::move(value), true};
  }

  // The value of a key inside the window at `now`, if any. Thread-safe.
  std::optional<V> Find(std::string_view key, absl::Time now) {
    const uint64_t hash = Hash(key);
    Shard& s = shards_[ShardOf(hash)];
    std::lock_guard lock(s.mu);
    size_t slot;
    const Entry* e = FindLocked(s, Tag(hash), key, &slot);
    if (e == nullptr || absl::ToUnixNanos(now) >= AdmissionOf(s, *e).admitted + window_ns_) {
      return std::nullopt;
    }
    return AdmissionOf(s, *e).value;
  }

  // Entries not yet dropped (some may be past the window). Thread-safe.
  size_t size() {
    size_t n = 0;
    for (Shard& s : shards_) {
      std::lock_guard lock(s.mu);
      n += s.count;
    }
    return n;
  }

  // Forgets every key. Thread-safe.
  void Clear() {
    for (Shard& s : shards_) {
      std::lock_guard lock(s.mu);
      s.next_view.store(nullptr, std::memory_order_relaxed);
      s.Reset();
      s.table.clear();
      s.count = 0;
      PublishLocked(s);
    }
  }

 private:
  // 32 bits of the hash, never 0 (0 marks an empty index slot); the low bits give the home slot.
  static uint32_t Tag(uint64_t hash) {
    const uint32_t low = static_cast<uint32_t>(hash);
    return low != 0 ? low : 1;
  }

  // An admission: a header, then the key's characters, padded to whole words. One per send of
  // the window (millions), so kept small. A word kPadding where an admission would start marks
  // the rest of its block as unused (the next admission did not fit there).
  struct Admission {
    Admission(int64_t at, const V& v, uint32_t t, uint16_t n)
        : admitted(at), value(v), tag(t), size(n) {}
    int64_t admitted;  // Unix ns
    V value;
    uint32_t tag;   // the key's tag: expiry finds its index slot without hashing it again
    uint16_t size;  // the key's length
    std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), size}; }
  };
  static_assert(alignof(Admission) <= 8);
  static constexpr int64_t kPadding = INT64_MIN;
  static bool IsPadding(const char* at) {
    int64_t word;
    std::memcpy(&word, at, sizeof(word));
    return word == kPadding;
  }
  // The words (8 bytes) an admission with a key of n characters takes.
  static constexpr uint64_t Words(size_t n) { return (sizeof(Admission) + n + 7) / 8; }

  // Blocks of admissions: raw memory (2 MiB: one huge page) in which admissions are constructed
  // as they arrive and destroyed as they expire, so a small window touches only the pages it
  // uses. Once a shard has kHugeAfter blocks in use its new blocks ask for transparent huge
  // pages: one page fault per 2 MiB instead of one per 4 KiB.
  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kBlockBytes = kHugePage;
  static constexpr int kBlockWordBits = 18;
  static constexpr uint64_t kBlockWords = uint64_t{1} << kBlockWordBits;
  static_assert(kBlockWords * 8 == kBlockBytes);
  static_assert(Words(257) < kBlockWords);  // the longest key (a group-scoped one) fits
  static constexpr size_t kSpareBlocks = 2;
  static constexpr size_t kHugeAfter = 1;
  // Live words per shard: the index names admissions by the low 32 bits of their positions.
  static constexpr uint64_t kMaxLive = uint64_t{1} << 32;

  static char* NewBlock(bool huge) {
    void* p = std::aligned_alloc(kHugePage, kBlockBytes);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (huge && p != nullptr) (void)madvise(p, kBlockBytes, MADV_HUGEPAGE);
#else
    (void)huge;
#endif
    return static_cast<char*>(p);
  }
  // An index slot: empty when tag is 0, else the key's tag and the low 32 bits of its
  // admission's position in words (live positions span less than 2^32, so those bits name one).
  struct Entry {
    uint32_t tag = 0;
    uint32_t number = 0;
  };
  // The index's slots, zeroed. Probes are random accesses over megabytes: once the table is
  // past 256 KiB its memory is asked for in whole transparent huge pages, or nearly every probe
  // would miss the TLB as well as the cache, and a page walk (a nested one in a VM) stalls even
  // the send's early prefetch. Empty (size 0) if its memory could not be had.
  class EntryArray {
   public:
    EntryArray() = default;
    explicit EntryArray(size_t n) {
      const size_t bytes = n * sizeof(Entry);
      if (bytes >= kHugePage / 8) {  // a huge page for it, even if it fills an eighth
        const size_t whole = (bytes + kHugePage - 1) / kHugePage * kHugePage;
        data_ = static_cast<Entry*>(std::aligned_alloc(kHugePage, whole));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (data_ != nullptr) (void)madvise(data_, whole, MADV_HUGEPAGE);
#endif
        if (data_ != nullptr) std::memset(static_cast<void*>(data_), 0, bytes);
      } else {
        data_ = static_cast<Entry*>(std::calloc(n, sizeof(Entry)));
      }
      if (data_ != nullptr) size_ = n;
    }
    EntryArray(EntryArray&& other) noexcept { *this = std::move(other); }
    EntryArray& operator=(EntryArray&& other) noexcept {
      if (this != &other) {
        std::free(data_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
      }
      return *this;
    }
    ~EntryArray() { std::free(data_); }
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    Entry* data() { return data_; }
    Entry& operator[](size_t i) { return data_[i]; }
    void clear() { *this = EntryArray(); }

   private:
    Entry* data_ = nullptr;
    size_t size_ = 0;
  };

  struct alignas(64) Shard {
    AdaptiveMutex mu;  // held for a few dozen instructions; visible to ThreadSanitizer
    // Admissions in time order, at positions counted in words: those in head..tail-1 are live
    // (constructed). Position p is word p % kBlockWords of block p / kBlockWords, found in a
    // ring of blocks (a power of two long, or empty). Blocks never move (growing moves only the
    // ring's pointers), and emptied ones are kept for reuse, so a steady window allocates
    // nothing and touches no new pages.
    char** ring = nullptr;  // malloc'd
    size_t ring_size = 0;
    std::array<char*, kSpareBlocks> spare{};
    size_t spares = 0;
    uint64_t head = 0, tail = 0;

    Shard() = default;
    ~Shard() { Reset(); }
    void Reset() {
      while (head != tail) {
        if (IsPadding(At(head))) {
          head = (head / kBlockWords + 1) * kBlockWords;
          continue;
        }
        Admission& a = *reinterpret_cast<Admission*>(At(head));
        head += Words(a.size);
        a.~Admission();
      }
      for (size_t i = 0; i < ring_size; ++i) std::free(ring[i]);  // null once retired
      for (size_t i = 0; i < spares; ++i) std::free(spare[i]);
      std::free(ring);
      ring = nullptr;
      ring_size = spares = 0;
      head = tail = 0;
    }

    char* At(uint64_t p) {
      return ring[(p >> kBlockWordBits) & (ring_size - 1)] + (p & (kBlockWords - 1)) * 8;
    }
    // Linear probing from tag & mask, at most 70% full; size a power of two (or empty).
    EntryArray table;
    size_t count = 0;
    // The table's address and mask, for Prefetch without the lock.
    std::atomic<const Entry*> table_view{nullptr};
    std::atomic<size_t> mask_view{0};
    // Where the next admission goes, when its block is there, for Prefetch.
    std::atomic<const char*> next_view{nullptr};
  };

  // The top bits choose the shard; the low bits (the tag's) the slot in its table.
  static size_t ShardOf(uint64_t hash) { return static_cast<size_t>(hash >> 60) % kShards; }

  // The admission an entry names: the live one whose position has those low 32 bits.
  static Admission& AdmissionOf(Shard& s, const Entry& e) {
    return *reinterpret_cast<Admission*>(
        s.At(s.head + static_cast<uint32_t>(e.number - static_cast<uint32_t>(s.head))));
  }

  // The entry of `key`, or null with *slot the empty slot where its probe ended (valid while
  // the table does not grow).
  static Entry* FindLocked(Shard& s, uint32_t tag, std::string_view key, size_t* slot) {
    if (s.table.empty()) return nullptr;
    const size_t mask = s.table.size() - 1;
    for (size_t i = tag & mask;; i = (i + 1) & mask) {
      Entry& e = s.table[i];
      if (e.tag == 0) {
        *slot = i;
        return nullptr;
      }
      if (e.tag == tag && AdmissionOf(s, e).key() == key) return &e;
    }
  }

  static size_t EmptySlotLocked(Shard& s, uint32_t tag) {
    const size_t mask = s.table.size() - 1;
    size_t i = tag & mask;
    while (s.table[i].tag != 0) i = (i + 1) & mask;
    return i;
  }

  // Gives position tail (the start of a block) a block; false if memory ran out.
  static bool AddBlockLocked(Shard& s) {
    // Blocks in use: first..next-1 (none when the window is empty: tail is at a block's start,
    // so head == tail means first == next).
    const uint64_t first = s.head / kBlockWords, next = s.tail / kBlockWords;
    const uint64_t used = next - first;
    if (used >= s.ring_size) {  // the ring of blocks is full: double it
      const size_t size = s.ring_size == 0 ? 4 : s.ring_size * 2;
      auto** bigger = static_cast<char**>(std::calloc(size, sizeof(char*)));
      if (bigger == nullptr) return false;
      for (uint64_t b = first; b < next; ++b) {
        bigger[b & (size - 1)] = s.ring[b & (s.ring_size - 1)];
      }
      std::free(s.ring);
      s.ring = bigger;
      s.ring_size = size;
    }
    char* block = s.spares > 0 ? s.spare[--s.spares] : NewBlock(used >= kHugeAfter);
    if (block == nullptr) return false;
    s.ring[next & (s.ring_size - 1)] = block;
    return true;
  }

  // Doubles the index (or makes its first); false, changing nothing, if memory ran out.
  static bool GrowTable(Shard& s) {
    EntryArray bigger(s.table.empty() ? 64 : s.table.size() * 2);
    if (bigger.empty()) return false;
    const size_t mask = bigger.size() - 1;
    for (size_t k = 0; k < s.table.size(); ++k) {
      const Entry& e = s.table[k];
      if (e.tag == 0) continue;
      size_t i = e.tag & mask;
      while (bigger[i].tag != 0) i = (i + 1) & mask;
      bigger[i] = e;
    }
    s.table = std::move(bigger);
    PublishLocked(s);
    return true;
  }

  static void PublishLocked(Shard& s) {
    s.table_view.store(s.table.empty() ? nullptr : s.table.data(), std::memory_order_relaxed);
    s.mask_view.store(s.table.empty() ? 0 : s.table.size() - 1, std::memory_order_relaxed);
  }

  // Removes the index entry naming the admission at position `number`, if it still does (a
  // later admission of the same key replaces it). Backward-shift deletion keeps every probe
  // sequence unbroken.
  static void EraseLocked(Shard& s, uint64_t number, uint32_t tag) {
    if (s.table.empty()) return;
    const size_t mask = s.table.size() - 1;
    const uint32_t low = static_cast<uint32_t>(number);
    size_t i = tag & mask;
    for (;; i = (i + 1) & mask) {
      const Entry& e = s.table[i];
      if (e.tag == 0) return;
      if (e.number == low && e.tag == tag) break;
    }
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
      const Entry& e = s.table[j];
      if (e.tag == 0) break;
      const size_t home = e.tag & mask;
      // e may move back to i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays) continue;
      s.table[i] = e;
      i = j;
    }
    s.table[i] = Entry{};
    --s.count;
  }

  void ExpireLocked(Shard& s, int64_t now_ns) {
    while (s.head != s.tail) {
      char* at = s.At(s.head);
      uint64_t next;
      if (IsPadding(at)) {
        next = (s.head / kBlockWords + 1) * kBlockWords;
      } else {
        Admission& a = *reinterpret_cast<Admission*>(at);
        if (a.admitted + window_ns_ > now_ns) break;
        EraseLocked(s, s.head, a.tag);
        next = s.head + Words(a.size);
        a.~Admission();
      }
      const uint64_t block_of_head = s.head / kBlockWords;
      s.head = next;
      if (next / kBlockWords != block_of_head) {  // its block is empty: keep a few for reuse
        char*& block = s.ring[block_of_head & (s.ring_size - 1)];
        if (s.spares < kSpareBlocks) {
          s.spare[s.spares++] = block;
        } else {
          std::free(block);
        }
        block = nullptr;
      }
    }
  }

  const int64_t window_ns_;
  std::array<Shard, kShards> shards_;
};

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_DEDUP_WINDOW_H_
