// DedupWindow: remembers keys for a fixed window (SQS FIFO: 5 minutes) so that a second send with
// the same deduplication id is recognised. Clock-free: every call takes `now`. Not API.
//
// A key admitted at t is a duplicate for any admission at t' with t' < t + window, and new again
// from t + window on (4:59.999 is a duplicate, 5:00.000 is not). The entry outlives the message:
// receiving or deleting the first copy does not forget it. Sharded by hash with a lock per shard;
// expired entries are dropped by the next admission to their shard, oldest first.
//
// Example:
//   detail::DedupWindow<std::string> window;
//   window.Admit("id-1", now, [] { return std::string("m1"); });  // {"m1", true}
//   window.Admit("id-1", now, [] { return std::string("m2"); });  // {"m1", false}
#ifndef COURIER_DETAIL_DEDUP_WINDOW_H_
#define COURIER_DETAIL_DEDUP_WINDOW_H_

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>
#include <absl/strings/string_view.h>
#include <absl/time/time.h>

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace courier::detail {

template <typename V>
class DedupWindow {
 public:
  static constexpr size_t kShards = 16;

  explicit DedupWindow(absl::Duration window = absl::Minutes(5)) : window_(window) {}
  DedupWindow(const DedupWindow&) = delete;
  DedupWindow& operator=(const DedupWindow&) = delete;

  // If `key` was admitted within the window before `now`, returns {its value, false}. Otherwise
  // calls make() and remembers its result: {value, true}. make() runs under the shard's lock, so
  // a concurrent duplicate waits for it and then sees its value. Thread-safe.
  template <typename Make>
  std::pair<V, bool> Admit(std::string_view key, absl::Time now, Make&& make) {
    Shard& s = shards_[absl::Hash<std::string_view>{}(key) % kShards];
    std::lock_guard lock(s.mu);
    ExpireLocked(s, now);
    auto it = s.entries.find(absl::string_view(key.data(), key.size()));
    if (it != s.entries.end() && now < it->second.admitted + window_) {
      return {it->second.value, false};
    }
    V value = make();
    if (it == s.entries.end()) {
      it = s.entries.emplace(std::string(key), Entry{value, now}).first;
    } else {
      it->second = Entry{value, now};
    }
    s.order.emplace_back(now, it->first);
    return {std::move(value), true};
  }

  // The value of a key inside the window at `now`, if any. Thread-safe.
  std::optional<V> Find(std::string_view key, absl::Time now) {
    Shard& s = shards_[absl::Hash<std::string_view>{}(key) % kShards];
    std::lock_guard lock(s.mu);
    auto it = s.entries.find(absl::string_view(key.data(), key.size()));
    if (it == s.entries.end() || now >= it->second.admitted + window_) return std::nullopt;
    return it->second.value;
  }

  // Entries not yet dropped (some may be past the window). Thread-safe.
  size_t size() {
    size_t n = 0;
    for (Shard& s : shards_) {
      std::lock_guard lock(s.mu);
      n += s.entries.size();
    }
    return n;
  }

  // Forgets every key. Thread-safe.
  void Clear() {
    for (Shard& s : shards_) {
      std::lock_guard lock(s.mu);
      s.entries.clear();
      s.order.clear();
    }
  }

 private:
  struct Entry {
    V value;
    absl::Time admitted;
  };
  struct alignas(64) Shard {
    std::mutex mu;  // std::mutex: visible to ThreadSanitizer
    absl::flat_hash_map<std::string, Entry> entries;
    // Admissions in time order; an entry re-admitted later leaves a stale record behind.
    std::deque<std::pair<absl::Time, std::string>> order;
  };

  void ExpireLocked(Shard& s, absl::Time now) {
    while (!s.order.empty() && s.order.front().first + window_ <= now) {
      auto it = s.entries.find(s.order.front().second);
      if (it != s.entries.end() && it->second.admitted == s.order.front().first) {
        s.entries.erase(it);
      }
      s.order.pop_front();
    }
  }

  const absl::Duration window_;
  std::array<Shard, kShards> shards_;
};

}  // namespace courier::detail

#endif  // COURIER_DETAIL_DEDUP_WINDOW_H_
