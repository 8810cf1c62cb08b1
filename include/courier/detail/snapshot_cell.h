// courier::detail::SnapshotCell: an immutable value that hot paths read and control planes
// replace (a bus's rules, a topic's subscriptions).
#ifndef COURIER_DETAIL_SNAPSHOT_CELL_H_
#define COURIER_DETAIL_SNAPSHOT_CELL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

namespace courier::detail {

// Load never blocks and never waits for a Store: it takes a reference to the current value in a
// few instructions (retried only when a Store lands at that moment). Store publishes the next
// value and waits only for the Loads already inside those instructions. Thread-safe.
template <typename T>
class SnapshotCell {
 public:
  explicit SnapshotCell(std::shared_ptr<const T> initial = nullptr)
      : current_(new Holder{std::move(initial)}) {}
  ~SnapshotCell() { delete current_.load(std::memory_order_relaxed); }
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;

  std::shared_ptr<const T> Load() const {
    for (;;) {
      const uint64_t epoch = epoch_.load();
      std::atomic<int64_t>& readers = readers_[epoch & 1];
      readers.fetch_add(1);
      if (epoch_.load() == epoch) {
        // A Store that flips the epoch from here on waits for `readers`, so the holder lives.
        std::shared_ptr<const T> value = current_.load()->value;
        readers.fetch_sub(1, std::memory_order_release);
        return value;
      }
      readers.fetch_sub(1, std::memory_order_release);  // a Store flipped the epoch: again
    }
  }

  void Store(std::shared_ptr<const T> next) {
    std::lock_guard lock(store_mu_);  // stores only: Loads never take it
    Holder* old = current_.exchange(new Holder{std::move(next)});
    const uint64_t epoch = epoch_.fetch_add(1);
    // Loads that entered under `epoch` may still read `old`; new ones count on the other side.
    while (readers_[epoch & 1].load() != 0) std::this_thread::yield();
    delete old;  // the value itself lives on in the Loads that took it
  }

 private:
  struct Holder {
    std::shared_ptr<const T> value;
  };
  std::atomic<Holder*> current_;
  std::atomic<uint64_t> epoch_{0};
  mutable std::atomic<int64_t> readers_[2] = {0, 0};
  std::mutex store_mu_;
};

}  // namespace courier::detail

#endif  // COURIER_DETAIL_SNAPSHOT_CELL_H_
