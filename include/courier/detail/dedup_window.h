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
// hash beside a pointer to its admission: a probe compares hashes and reads a key only when they
// match, growing never re-reads keys, and a caller can Prefetch a key's slot early (e.g. before
// hashing the message body) so that the miss overlaps other work.
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
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
    Shard& s = shards_[ShardOf(hash)];
    std::lock_guard lock(s.mu);
    ExpireLocked(s, now);
    Entry* e = FindLocked(s, hash, key);
    const int64_t now_ns = absl::ToUnixNanos(now);
    if (e != nullptr && now_ns < e->admission->admitted + window_ns_) {
      return {e->admission->value, false};
    }
    V value = make();
    // Deque elements never move on push_back/pop_front, so the index can point into them.
    Admission* a = &s.order.emplace_back(Admission{now_ns, value, std::string(key)});
    if (e != nullptr) {
      e->admission = a;  // the old admission's key may go before this one
    } else {
      InsertLocked(s, Entry{hash, a});
    }
    return {std::move(value), true};
  }
  template <typename Make>
  std::pair<V, bool> Admit(std::string_view key, absl::Time now, Make&& make) {
    return Admit(key, Hash(key), now, std::forward<Make>(make));
  }

  // The value of a key inside the window at `now`, if any. Thread-safe.
  std::optional<V> Find(std::string_view key, absl::Time now) {
    const uint64_t hash = Hash(key);
    Shard& s = shards_[ShardOf(hash)];
    std::lock_guard lock(s.mu);
    const Entry* e = FindLocked(s, hash, key);
    if (e == nullptr || absl::ToUnixNanos(now) >= e->admission->admitted + window_ns_) {
      return std::nullopt;
    }
    return e->admission->value;
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
      s.order.clear();
      s.table.clear();
      s.count = 0;
      PublishLocked(s);
    }
  }

 private:
  // One per send of the window (millions): kept small. The key's hash is in the index.
  struct Admission {
    int64_t admitted;  // Unix ns
    V value;
    std::string key;
  };
  // An index slot: empty when admission is null.
  struct Entry {
    uint64_t hash = 0;
    Admission* admission = nullptr;
  };
  struct alignas(64) Shard {
    AdaptiveMutex mu;  // held for a few dozen instructions; visible to ThreadSanitizer
    // Admissions in time order; the index points at each key's latest admission.
    std::deque<Admission> order;
    // Linear probing from hash & mask, at most 70% full; size a power of two (or empty).
    std::vector<Entry> table;
    size_t count = 0;
    // The table's address and mask, for Prefetch without the lock.
    std::atomic<const Entry*> table_view{nullptr};
    std::atomic<size_t> mask_view{0};
  };

  // The top bits choose the shard; the low bits the slot in its table.
  static size_t ShardOf(uint64_t hash) { return static_cast<size_t>(hash >> 60) % kShards; }

  static Entry* FindLocked(Shard& s, uint64_t hash, std::string_view key) {
    if (s.table.empty()) return nullptr;
    const size_t mask = s.table.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Entry& e = s.table[i];
      if (e.admission == nullptr) return nullptr;
      if (e.hash == hash && e.admission->key == key) return &e;
    }
  }

  static void InsertLocked(Shard& s, Entry entry) {
    if ((s.count + 1) * 10 > s.table.size() * 7) Grow(s);
    const size_t mask = s.table.size() - 1;
    size_t i = entry.hash & mask;
    while (s.table[i].admission != nullptr) i = (i + 1) & mask;
    s.table[i] = entry;
    ++s.count;
  }

  static void Grow(Shard& s) {
    std::vector<Entry> old = std::move(s.table);
    s.table.assign(old.empty() ? 64 : old.size() * 2, Entry{});
    const size_t mask = s.table.size() - 1;
    for (const Entry& e : old) {
      if (e.admission == nullptr) continue;
      size_t i = e.hash & mask;
      while (s.table[i].admission != nullptr) i = (i + 1) & mask;
      s.table[i] = e;
    }
    PublishLocked(s);
  }

  static void PublishLocked(Shard& s) {
    s.table_view.store(s.table.empty() ? nullptr : s.table.data(), std::memory_order_relaxed);
    s.mask_view.store(s.table.empty() ? 0 : s.table.size() - 1, std::memory_order_relaxed);
  }

  // Removes the index entry pointing at `a`, if it still does (a later admission of the same
  // key replaces it). Backward-shift deletion keeps every probe sequence unbroken.
  static void EraseLocked(Shard& s, const Admission& a) {
    if (s.table.empty()) return;
    const size_t mask = s.table.size() - 1;
    size_t i = Hash(a.key) & mask;
    for (;; i = (i + 1) & mask) {
      if (s.table[i].admission == nullptr) return;
      if (s.table[i].admission == &a) break;
    }
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
      const Entry& e = s.table[j];
      if (e.admission == nullptr) break;
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

  void ExpireLocked(Shard& s, absl::Time now) {
    const int64_t now_ns = absl::ToUnixNanos(now);
    while (!s.order.empty() && s.order.front().admitted + window_ns_ <= now_ns) {
      EraseLocked(s, s.order.front());
      s.order.pop_front();
    }
  }

  const int64_t window_ns_;
  std::array<Shard, kShards> shards_;
};

}  // namespace courier::detail

#endif  // COURIER_DETAIL_DEDUP_WINDOW_H_
