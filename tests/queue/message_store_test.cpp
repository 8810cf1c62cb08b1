// The lock-free core of a standard queue (queue/message_store.h), on its own: time comes in as
// numbers, so the concurrent case runs with no clock and no lock at all (ThreadSanitizer sees
// only the core's own synchronization).
#include "queue/message_store.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace courier::queue_internal {
namespace {

constexpr int64_t kRetention = 1'000'000;

// Sends one message whose id carries `tag`; visible at `visible_at`.
uint32_t Send(MessageStore& store, uint64_t tag, int64_t now, int64_t visible_at = 0) {
  const uint32_t i = store.Allocate();
  Slot& s = store.at(i);
  s.id = {tag, 0};
  s.set_enqueued(now);
  s.received_ms.store(0);
  s.first_receive_ms.store(0);
  MessageStore::SetBody(s, "body", nullptr);
  s.extra = nullptr;
  store.Publish(i, 0, now, visible_at, kRetention, /*in_order=*/true);
  return i;
}

// Receives the oldest visible message until `until`; its slot, or nullopt.
std::optional<uint32_t> Receive(MessageStore& store, int64_t now, int64_t until) {
  while (auto v = store.PopVisible()) {
    auto [i, word] = *v;
    if (store.Receive(i, word, SlotWord::receives(word) + 1, now, until, kRetention)) {
      store.Read(i);
      return i;
    }
  }
  return std::nullopt;
}

TEST_CASE("MessageStore: visibility timeouts, delays, retention and slot reuse", "[store]") {
  auto store = MessageStore::Create();
  auto guard = std::make_unique<Epochs::Guard>();
  const uint32_t a = Send(*store, 1, 100);
  Send(*store, 2, 100, /*visible_at=*/500);  // delayed
  CHECK(store->visible() == 1);
  CHECK(store->delayed() == 1);

  REQUIRE(Receive(*store, 100, 300) == a);
  CHECK(!Receive(*store, 100, 300));  // the other is delayed
  CHECK(store->in_flight() == 1);
  CHECK(store->NextTimer() == 300);
  store->Sweep(299, kRetention);
  CHECK(store->in_flight() == 1);
  store->Sweep(300, kRetention);  // the timeout ends: a is visible again
  CHECK(store->visible() == 1);
  CHECK(SlotWord::receives(store->at(a).word.load()) == 1);

  store->Sweep(500, kRetention);  // the delay ends
  CHECK(store->visible() == 2);
  CHECK(store->delayed() == 0);

  // A stale word changes nothing.
  uint64_t word = store->at(a).word.load();
  uint64_t stale = word - (uint64_t{1} << 32);
  CHECK(!store->Remove(a, stale));
  CHECK(store->visible() == 2);
  const uint32_t gen = store->at(a).gen();
  REQUIRE(store->Remove(a, word));
  CHECK(store->visible() == 1);

  // Retention: the other expires at its enqueue time plus the period.
  store->Sweep(100 + kRetention - 1, kRetention);
  CHECK(store->visible() == 1);
  store->Sweep(100 + kRetention, kRetention);
  CHECK(store->visible() == 0);

  // Removed slots come back, under a new generation.
  MessageStore::FlushRemoved();  // hands this thread's released slots back
  bool reused = false;
  for (int k = 0; k < 4 && !reused; ++k) reused = Send(*store, 3, 200) == a;
  CHECK(reused);
  CHECK(store->at(a).gen() == gen + 1);
}

TEST_CASE("MessageStore: a message removed while its receiver reads it is freed by the reader",
          "[store]") {
  auto store = MessageStore::Create();
  Epochs::Guard guard;
  const uint32_t a = Send(*store, 1, 0);
  uint64_t word = store->at(a).word.load();
  REQUIRE(store->Receive(a, word, 1, 0, 100, kRetention));  // being read from now on
  const uint32_t gen = store->at(a).gen();
  word = store->at(a).word.load();
  REQUIRE(store->Remove(a, word));   // a purge, say, while the receiver copies the body
  CHECK(store->at(a).gen() == gen);  // not freed: the body is still there to copy
  CHECK(store->at(a).body() == "body");
  store->Read(a);  // the receiver is done: it frees the slot
  CHECK(store->at(a).gen() == gen + 1);
  CHECK(store->in_flight() == 0);
}

TEST_CASE("MessageStore: a message in flight past its expiry goes at its expiry", "[store]") {
  auto store = MessageStore::Create();
  Epochs::Guard guard;
  Send(*store, 1, 0);
  REQUIRE(Receive(*store, 10, 10 * kRetention));  // a timeout much longer than the retention
  store->Sweep(kRetention - 1, kRetention);
  CHECK(store->in_flight() == 1);
  store->Sweep(kRetention, kRetention);
  CHECK(store->in_flight() == 0);
}

TEST_CASE("MessageStore: messages out of enqueue order expire at their own times", "[store]") {
  auto store = MessageStore::Create();
  Epochs::Guard guard;
  Send(*store, 1, 1000);
  // A dead letter: enqueued long before, arriving now.
  const uint32_t old = store->Allocate();
  Slot& s = store->at(old);
  s.id = {2, 0};
  s.set_enqueued(10);
  MessageStore::SetBody(s, "old", nullptr);
  store->Publish(old, 3, 1000, 1000, kRetention, /*in_order=*/false);
  CHECK(store->visible() == 2);
  store->Sweep(10 + kRetention, kRetention);
  CHECK(store->visible() == 1);
  store->Sweep(1000 + kRetention, kRetention);
  CHECK(store->visible() == 0);
}

// 8 producers, 8 consumers that receive with short timeouts and delete half of what they get,
// and a thread moving the time on: each message is deleted exactly once in the end.
TEST_CASE("MessageStore: concurrent sends, receives, timeouts and deletes", "[store][stress]") {
  constexpr int kProducers = 8, kConsumers = 8, kPerProducer = 4000;
  constexpr int kTotal = kProducers * kPerProducer;
  constexpr int64_t kForever = INT64_MAX / 4;  // nothing expires
  auto store = MessageStore::Create();
  std::atomic<int64_t> now{1};
  std::atomic<int> producers_done{0}, consumers_done{0};
  std::vector<std::atomic<int>> removed(kTotal);
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int k = 0; k < kPerProducer; ++k) {
        Epochs::Guard guard;
        Send(*store, static_cast<uint64_t>(p * kPerProducer + k), now.load());
      }
      ++producers_done;
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 random(c);
      int idle = 0;
      while (idle < 200) {
        Epochs::Guard guard;
        const int64_t t = now.load();
        store->Sweep(t, kForever);
        auto v = store->PopVisible();
        if (!v) {
          if (producers_done.load() == kProducers) ++idle;
          std::this_thread::yield();
          continue;
        }
        idle = 0;
        auto [i, word] = *v;
        const int64_t until = t + 1 + static_cast<int64_t>(random() % 3);
        if (!store->Receive(i, word, SlotWord::receives(word) + 1, t, until, kForever)) continue;
        const auto tag = static_cast<size_t>(store->at(i).id.hi);
        store->Read(i);
        word = store->at(i).word.load();
        if (random() % 2 == 0 && store->Remove(i, word)) ++removed[tag];
      }
      ++consumers_done;
    });
  }
  threads.emplace_back([&] {
    while (consumers_done.load() < kConsumers) {
      now.fetch_add(1);
      std::this_thread::yield();
    }
  });
  for (auto& t : threads) t.join();
  // Drain: everything left comes back and is deleted now.
  Epochs::Guard guard;
  store->Sweep(kForever / 2, kForever);
  while (auto v = store->PopVisible()) {
    auto [i, word] = *v;
    const auto tag = static_cast<size_t>(store->at(i).id.hi);
    if (store->Remove(i, word)) ++removed[tag];
  }
  int missing = 0, twice = 0;
  for (auto& n : removed) {
    missing += n.load() == 0;
    twice += n.load() > 1;
  }
  CHECK(missing == 0);
  CHECK(twice == 0);
  CHECK(store->visible() == 0);
  CHECK(store->in_flight() == 0);
  CHECK(store->delayed() == 0);
}

}  // namespace
}  // namespace courier::queue_internal
