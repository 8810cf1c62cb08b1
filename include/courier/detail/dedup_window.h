// DedupWindow: remembers keys for a fixed window (SQS FIFO: 5 minutes) so that a second send with
// the same deduplication id is recognised. Clock-free: every call takes `now`. Not API.
//
// A key admitted at t is a duplicate for any admission at t' with t' < t + window, and new again
// from t + window on (4:59.999 is a duplicate, 5:00.000 is not). The entry outlives the message:
// receiving or deleting the first copy does not forget it. Sharded by hash with a lock per shard;
// expired entries are dropped by the next admission to their shard, oldest first.
//
// The window holds every key of the last five minutes, far more than fits in a cache, so a lookup
// costs a cache miss. Each shard's index is an open-addressing table that keeps each key's full
// hash beside the number of its admission: a probe compares hashes and reads a key only when
// they match, growing never re-reads keys, and a caller can Prefetch a key's slot early (e.g.
// before hashing the message body) so that the miss overlaps other work. Admissions live in a
// ring per shard whose slots are reused as the window moves (no allocation per send, no new
// pages once the window is full); keys of up to 26 characters are kept inline.
//
// Example:
//   detail::DedupWindow<std::string> window;
//   window.Admit("id-1", now, [] { return std::string("m1"); });  // {"m1", true}
//   window.Admit("id-1", now, [] { return std::string("m2"); });  // {"m1", false}
#ifndef COURIER_DETAIL_DEDUP_WINDOW_H_
#define COURIER_DETAIL_DEDUP_WINDOW_H_

#include <absl/hash/hash.h>
#include <absl/strings/string_view.h>
#include <absl/time/time.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "courier/detail/adaptive_mutex.h"

namespace courier::detail {

template <typename V>
class DedupWindow {
 public:
  static constexpr size_t kShards = 16;

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
    if (table != nullptr) __builtin_prefetch(table + (hash & mask), 1);
  }

  // If `key` was admitted within the window before `now`, returns {its value, false}. Otherwise
  // calls make() and remembers its result: {value, true}. make() runs under the shard's lock, so
  // a concurrent duplicate waits for it and then sees its value. `hash` must be Hash(key).
  // Thread-safe.
  template <typename Make>
  std::pair<V, bool> Admit(std::string_view key, uint64_t hash, absl::Time now, Make&& make) {
    return AdmitAt(key, hash, absl::ToUnixNanos(now), std::forward<Make>(make));
  }
  template <typename Make>
  std::pair<V, bool> Admit(std::string_view key, absl::Time now, Make&& make) {
    return Admit(key, Hash(key), now, std::forward<Make>(make));
  }
  // Admit with `now` in Unix nanoseconds.
  template <typename Make>
  std::pair<V, bool> AdmitAt(std::string_view key, uint64_t hash, int64_t now_ns, Make&& make) {
    Shard& s = shards_[ShardOf(hash)];
    std::lock_guard lock(s.mu);
    ExpireLocked(s, now_ns);
    size_t slot = 0;  // the key's slot, or the empty one where its probe ended
    Entry* e = FindLocked(s, hash, key, &slot);
    if (e != nullptr && now_ns < AdmissionOf(s, *e).admitted + window_ns_) {
      return {AdmissionOf(s, *e).value, false};
    }
    V value = make();
    if ((s.tail & (kBlock - 1)) == 0) AddBlockLocked(s);
    const uint64_t number = s.tail++;
    // Constructed in place: the slot is raw memory (fresh, or its admission expired), never
    // read first, which a send would wait for as a cache miss.
    new (&s.Slot(number)) Admission(now_ns, value, key, hash);
    if (e != nullptr) {
      e->number = number + 1;  // the old admission's key may go before this one
    } else {
      if ((s.count + 1) * 10 > s.table.size() * 7) {
        GrowTable(s);
        slot = EmptySlotLocked(s, hash);
      }
      s.table[slot] = Entry{hash, number + 1};
      ++s.count;
    }
    return {std::move(value), true};
  }

  // The value of a key inside the window at `now`, if any. Thread-safe.
  std::optional<V> Find(std::string_view key, absl::Time now) {
    const uint64_t hash = Hash(key);
    Shard& s = shards_[ShardOf(hash)];
    std::lock_guard lock(s.mu);
    size_t slot;
    const Entry* e = FindLocked(s, hash, key, &slot);
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
      s.Reset();
      s.table.clear();
      s.count = 0;
      PublishLocked(s);
    }
  }

 private:
  // A key of up to kInline characters kept inline, a longer one on the heap (ids are at most
  // 128 characters, group-scoped keys 257), with the low bits of its hash: expiry finds the
  // key's index slot without hashing it again. 32 bytes.
  class Key {
   public:
    static constexpr size_t kInline = 26;
    Key(std::string_view key, uint64_t hash)
        : size_(static_cast<uint16_t>(key.size())), hash_low_(static_cast<uint32_t>(hash)) {
      if (key.size() <= kInline) {
        std::memcpy(bytes_, key.data(), key.size());
      } else {
        char* heap = new char[key.size()];
        std::memcpy(heap, key.data(), key.size());
        std::memcpy(bytes_, &heap, sizeof(heap));
      }
    }
    Key(const Key&) = delete;
    Key& operator=(const Key&) = delete;
    ~Key() {
      if (size_ > kInline) delete[] heap();
    }
    std::string_view view() const { return {size_ <= kInline ? bytes_ : heap(), size_}; }
    uint32_t hash_low() const { return hash_low_; }

   private:
    char* heap() const {
      char* p;
      std::memcpy(&p, bytes_, sizeof(p));
      return p;
    }
    char bytes_[kInline];  // the characters, or a pointer to them
    uint16_t size_;
    uint32_t hash_low_;
  };
  static_assert(sizeof(Key) == 32);

  // One per send of the window (millions): kept small (64 bytes for a 24-byte value).
  struct Admission {
    Admission(int64_t at, const V& v, std::string_view k, uint64_t hash)
        : admitted(at), value(v), key(k, hash) {}
    int64_t admitted;  // Unix ns
    V value;
    Key key;
  };
  // Blocks of admissions: raw memory (2 MiB for 64-byte admissions), whose slots are
  // constructed as admissions arrive and destroyed as they expire, so a small window touches
  // only the pages it uses. Once a shard has kHugeAfter blocks in use its new blocks ask for
  // transparent huge pages: one page fault per 2 MiB instead of one per 4 KiB.
  static constexpr int kBlockBits = 15;
  static constexpr uint64_t kBlock = uint64_t{1} << kBlockBits;
  static constexpr size_t kSpareBlocks = 2;
  static constexpr size_t kHugeAfter = 1;
  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kBlockBytes =
      (kBlock * sizeof(Admission) + kHugePage - 1) / kHugePage * kHugePage;

  static Admission* NewBlock(bool huge) {
    void* p = std::aligned_alloc(kHugePage, kBlockBytes);
    if (p == nullptr) throw std::bad_alloc();  // as std::vector would
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (huge) (void)madvise(p, kBlockBytes, MADV_HUGEPAGE);
#else
    (void)huge;
#endif
    return static_cast<Admission*>(p);
  }
  // An index slot: empty when number is 0, else the admission's number + 1.
  struct Entry {
    uint64_t hash = 0;
    uint64_t number = 0;
  };
  // The index's slots, zeroed. Probes are random accesses over megabytes: once the table is
  // large its memory is asked for in transparent huge pages, or nearly every probe would miss
  // the TLB as well as the cache.
  class EntryArray {
   public:
    EntryArray() = default;
    explicit EntryArray(size_t n) : size_(n) {
      const size_t bytes = n * sizeof(Entry);
      if (bytes >= kHugePage) {
        data_ = static_cast<Entry*>(std::aligned_alloc(kHugePage, bytes));  // a multiple of it
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (data_ != nullptr) (void)madvise(data_, bytes, MADV_HUGEPAGE);
#endif
        if (data_ != nullptr) std::memset(static_cast<void*>(data_), 0, bytes);
      } else {
        data_ = static_cast<Entry*>(std::calloc(n, sizeof(Entry)));
      }
      if (data_ == nullptr) throw std::bad_alloc();  // as std::vector would
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
    // Admissions in time order, numbered: head..tail-1 are live (constructed). Number n is slot
    // n % kBlock of block n / kBlock, found in a ring of blocks (a power of two long, or empty).
    // Blocks never move (growing moves only the ring's pointers), and emptied ones are kept
    // for reuse, so a steady window allocates nothing and touches no new pages.
    std::vector<Admission*> blocks;
    std::vector<Admission*> spare;
    uint64_t head = 0, tail = 0;

    Shard() = default;
    ~Shard() { Reset(); }
    void Reset() {
      for (uint64_t n = head; n < tail; ++n) Slot(n).~Admission();
      for (Admission* block : blocks) std::free(block);  // null once retired
      for (Admission* block : spare) std::free(block);
      blocks.clear();
      spare.clear();
      head = tail = 0;
    }

    Admission& Slot(uint64_t n) {
      return blocks[(n >> kBlockBits) & (blocks.size() - 1)][n & (kBlock - 1)];
    }
    // Linear probing from hash & mask, at most 70% full; size a power of two (or empty).
    EntryArray table;
    size_t count = 0;
    // The table's address and mask, for Prefetch without the lock.
    std::atomic<const Entry*> table_view{nullptr};
    std::atomic<size_t> mask_view{0};
  };

  // The top bits choose the shard; the low bits the slot in its table.
  static size_t ShardOf(uint64_t hash) { return static_cast<size_t>(hash >> 60) % kShards; }

  static Admission& AdmissionOf(Shard& s, const Entry& e) { return s.Slot(e.number - 1); }

  // The entry of `key`, or null with *slot the empty slot where its probe ended (valid while
  // the table does not grow).
  static Entry* FindLocked(Shard& s, uint64_t hash, std::string_view key, size_t* slot) {
    if (s.table.empty()) return nullptr;
    const size_t mask = s.table.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Entry& e = s.table[i];
      if (e.number == 0) {
        *slot = i;
        return nullptr;
      }
      if (e.hash == hash && AdmissionOf(s, e).key.view() == key) return &e;
    }
  }

  static size_t EmptySlotLocked(Shard& s, uint64_t hash) {
    const size_t mask = s.table.size() - 1;
    size_t i = hash & mask;
    while (s.table[i].number != 0) i = (i + 1) & mask;
    return i;
  }

  // Gives admission number tail (the first of its block) a block.
  static void AddBlockLocked(Shard& s) {
    // Blocks in use: first..next-1 (none when the window is empty: tail is at a block's start,
    // so head == tail means first == next).
    const uint64_t first = s.head >> kBlockBits, next = s.tail >> kBlockBits;
    const uint64_t used = next - first;
    if (used >= s.blocks.size()) {  // the ring of blocks is full: double it
      std::vector<Admission*> bigger(s.blocks.empty() ? 4 : s.blocks.size() * 2, nullptr);
      for (uint64_t b = next - used; b < next; ++b) {
        bigger[b & (bigger.size() - 1)] = s.blocks[b & (s.blocks.size() - 1)];
      }
      s.blocks.swap(bigger);
    }
    Admission*& block = s.blocks[next & (s.blocks.size() - 1)];
    if (!s.spare.empty()) {
      block = s.spare.back();
      s.spare.pop_back();
    } else {
      block = NewBlock(used >= kHugeAfter);
    }
  }

  static void GrowTable(Shard& s) {
    EntryArray old = std::move(s.table);
    s.table = EntryArray(old.empty() ? 64 : old.size() * 2);
    const size_t mask = s.table.size() - 1;
    for (size_t k = 0; k < old.size(); ++k) {
      const Entry& e = old[k];
      if (e.number == 0) continue;
      size_t i = e.hash & mask;
      while (s.table[i].number != 0) i = (i + 1) & mask;
      s.table[i] = e;
    }
    PublishLocked(s);
  }

  static void PublishLocked(Shard& s) {
    s.table_view.store(s.table.empty() ? nullptr : s.table.data(), std::memory_order_relaxed);
    s.mask_view.store(s.table.empty() ? 0 : s.table.size() - 1, std::memory_order_relaxed);
  }

  // Removes the index entry naming admission `number`, if it still does (a later admission of
  // the same key replaces it). Backward-shift deletion keeps every probe sequence unbroken.
  static void EraseLocked(Shard& s, uint64_t number, uint32_t hash_low) {
    if (s.table.empty()) return;
    const size_t mask = s.table.size() - 1;
    // hash_low holds the bits hash & mask needs: tables stay far below 2^32 slots.
    size_t i = hash_low & mask;
    for (;; i = (i + 1) & mask) {
      if (s.table[i].number == 0) return;
      if (s.table[i].number == number + 1) break;
    }
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
      const Entry& e = s.table[j];
      if (e.number == 0) break;
      const size_t home = e.hash & mask;
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
      Admission& a = s.Slot(s.head);
      if (a.admitted + window_ns_ > now_ns) break;
      EraseLocked(s, s.head, a.key.hash_low());
      a.~Admission();  // a long key's memory goes now, not when the slot is reused
      if ((++s.head & (kBlock - 1)) == 0) {  // its block is empty: keep a few for reuse
        Admission*& block = s.blocks[((s.head - 1) >> kBlockBits) & (s.blocks.size() - 1)];
        if (s.spare.size() < kSpareBlocks) {
          s.spare.push_back(block);
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

}  // namespace courier::detail

#endif  // COURIER_DETAIL_DEDUP_WINDOW_H_
