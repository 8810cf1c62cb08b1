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
    const absl::string_view k(key.data(), key.size());
    Shard& s = shards_[absl::Hash<absl::string_view>{}(k) % kShards];
    std::lock_guard lock(s.mu);
    ExpireLocked(s, now);
    auto it = s.entries.find(k);
    if (it != s.entries.end() && now < it->second->admitted + window_) {
      return {it->second->value, false};
    }
    V value = make();
    // Deque elements never move on push_back/pop_front, so the map can point into them.
    s.order.push_back(Admission{now, std::string(key), value});
    Admission* a = &s.order.back();
    const absl::string_view stored(a->key.data(), a->key.size());
    if (it == s.entries.end()) {
      s.entries.emplace(stored, a);
    } else {
      s.entries.erase(it);  // the old admission's key may go before this one
      s.entries.emplace(stored, a);
    }
    return {std::move(value), true};
  }

  // The value of a key inside the window at `now`, if any. Thread-safe.
  std::optional<V> Find(std::string_view key, absl::Time now) {
    const absl::string_view k(key.data(), key.size());
    Shard& s = shards_[absl::Hash<absl::string_view>{}(k) % kShards];
    std::lock_guard lock(s.mu);
    auto it = s.entries.find(k);
    if (it == s.entries.end() || now >= it->second->admitted + window_) return std::nullopt;
    return it->second->value;
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
  struct Admission {
    absl::Time admitted;
    std::string key;
    V value;
  };
  struct alignas(64) Shard {
    std::mutex mu;  // std::mutex: visible to ThreadSanitizer
    // Admissions in time order; the map points at each key's latest admission.
    std::deque<Admission> order;
    absl::flat_hash_map<absl::string_view, Admission*> entries;
  };

  void ExpireLocked(Shard& s, absl::Time now) {
    while (!s.order.empty() && s.order.front().admitted + window_ <= now) {
      Admission& a = s.order.front();
      auto it = s.entries.find(absl::string_view(a.key.data(), a.key.size()));
      if (it != s.entries.end() && it->second == &a) s.entries.erase(it);
      s.order.pop_front();
    }
  }

  const absl::Duration window_;
  std::array<Shard, kShards> shards_;
};

}  // namespace courier::detail

#endif  // COURIER_DETAIL_DEDUP_WINDOW_H_
