// SnapshotCell: Loads see whole values, old or new, while Stores replace them; every value is
// freed once its last reader lets go (AddressSanitizer checks the frees, ThreadSanitizer the
// races).
#include "courier/detail/snapshot_cell.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

namespace courier::detail {
namespace {

struct Pair {
  int64_t a, b;  // always equal in a published value
};

TEST_CASE("SnapshotCell: Load returns what Store published", "[core][snapshot]") {
  SnapshotCell<Pair> cell;
  CHECK(cell.Load() == nullptr);
  auto first = std::make_shared<const Pair>(Pair{1, 1});
  cell.Store(first);
  CHECK(cell.Load() == first);
  cell.Store(std::make_shared<const Pair>(Pair{2, 2}));
  CHECK(cell.Load()->a == 2);
  CHECK(first.use_count() == 1);  // the cell let go of the value it replaced
}

TEST_CASE("SnapshotCell: readers racing a writer see whole values, in order", "[core][snapshot]") {
  SnapshotCell<Pair> cell(std::make_shared<const Pair>(Pair{0, 0}));
  constexpr int64_t kStores = 20000;
  std::atomic<bool> done{false};
  std::atomic<int64_t> torn{0}, backwards{0}, loads{0};
  std::atomic<int> started{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      int64_t last = 0;
      started.fetch_add(1);
      do {
        std::shared_ptr<const Pair> p = cell.Load();
        if (p->a != p->b) torn.fetch_add(1);
        if (p->a < last) backwards.fetch_add(1);
        last = p->a;
        loads.fetch_add(1, std::memory_order_relaxed);
      } while (!done.load(std::memory_order_acquire));
    });
  }
  // The writer starts once every reader runs, so the race is real even on a loaded machine.
  while (started.load() < 4) std::this_thread::yield();
  for (int64_t i = 1; i <= kStores; ++i) cell.Store(std::make_shared<const Pair>(Pair{i, i}));
  done.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();
  CHECK(torn.load() == 0);
  CHECK(backwards.load() == 0);
  CHECK(loads.load() > 0);
  CHECK(cell.Load()->a == kStores);
}

}  // namespace
}  // namespace courier::detail
