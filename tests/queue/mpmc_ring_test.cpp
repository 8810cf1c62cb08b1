#include "queue/mpmc_ring.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <deque>
#include <random>
#include <thread>
#include <vector>

#include "queue/epochs.h"

namespace courier::queue_internal {
namespace {

TEST_CASE("MpmcRing keeps FIFO order across segments; PopIf that declines removes nothing",
          "[mpmc_ring]") {
  Epochs::Guard guard;
  MpmcRing ring;
  std::deque<uint64_t> model;
  std::mt19937_64 random(7);
  uint64_t next = 1;
  for (int step = 0; step < 100000; ++step) {
    if (random() % 100 < 55) {
      ring.Push(next);
      model.push_back(next++);
    } else if (random() % 10 == 0) {  // declined: the front stays
      uint64_t seen = 0;
      CHECK(!ring.PopIf([&](uint64_t e) {
        seen = e;
        return false;
      }));
      CHECK(seen == (model.empty() ? 0 : model.front()));
    } else {
      std::optional<uint64_t> e = ring.Pop();
      REQUIRE(e.has_value() == !model.empty());
      if (e) {
        REQUIRE(*e == model.front());
        model.pop_front();
      }
    }
    REQUIRE(ring.ApproximateSize() == model.size());
  }
  while (!model.empty()) {
    REQUIRE(ring.Pop() == model.front());
    model.pop_front();
  }
  CHECK(!ring.Pop());
}

TEST_CASE("MpmcRing: runs pushed by the owner cross segments in order; PopRun on empty is 0",
          "[mpmc_ring]") {
  Epochs::Guard guard;
  MpmcRing ring;
  std::deque<uint64_t> model;
  std::mt19937_64 random(11);
  uint64_t next = 1;
  std::vector<uint64_t> run, out(16);
  for (int step = 0; step < 20000; ++step) {
    if (random() % 2 == 0) {
      run.clear();
      for (size_t k = random() % 40; k > 0; --k) run.push_back(next++);  // up to 39: 2 segments
      ring.PushOwned(run, std::memory_order_release);
      model.insert(model.end(), run.begin(), run.end());
    } else {
      const size_t n = ring.PopRun([](uint64_t, size_t) { return true; }, out.data(), out.size());
      REQUIRE(n <= model.size());
      CHECK((n > 0 || model.empty()));
      for (size_t k = 0; k < n; ++k) {
        REQUIRE(out[k] == model.front());
        model.pop_front();
      }
    }
    REQUIRE(ring.ApproximateSize() == model.size());
  }
}

// More threads than cores: every entry comes out once, and each consumer sees each producer's
// entries in the order they were pushed.
TEST_CASE("MpmcRing: 8 producers and 8 consumers, each entry once and in order per producer",
          "[mpmc_ring][stress]") {
  constexpr int kProducers = 8, kConsumers = 8, kPerProducer = 20000;
  MpmcRing ring;
  std::atomic<int> producers_done{0};
  std::vector<std::vector<uint8_t>> seen(kProducers, std::vector<uint8_t>(kPerProducer));
  std::atomic<bool> out_of_order{false};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        Epochs::Guard guard;
        ring.Push(uint64_t(p + 1) << 32 | uint64_t(i + 1));
      }
      ++producers_done;
    });
  }
  std::vector<std::vector<int>> taken(kConsumers);
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::vector<int> last(kProducers, 0);
      for (;;) {
        std::optional<uint64_t> e;
        {
          Epochs::Guard guard;
          e = ring.Pop();
        }
        if (!e) {
          if (producers_done.load() == kProducers) {
            Epochs::Guard guard;
            if (!(e = ring.Pop())) break;
          } else {
            std::this_thread::yield();
            continue;
          }
        }
        const int p = static_cast<int>(*e >> 32) - 1;
        const int i = static_cast<int>(*e & 0xffffffff);
        if (i <= last[p]) out_of_order = true;
        last[p] = i;
        taken[c].push_back(p * kPerProducer + i - 1);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(!out_of_order);
  std::vector<int> count(kProducers * kPerProducer);
  for (const auto& list : taken)
    for (int k : list) ++count[k];
  int missing = 0, twice = 0;
  for (int n : count) {
    missing += n == 0;
    twice += n > 1;
  }
  CHECK(missing == 0);
  CHECK(twice == 0);
  Epochs::Collect();
}

}  // namespace
}  // namespace courier::queue_internal
