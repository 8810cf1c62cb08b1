// The lock-free core of a standard queue (queue/message_store.h), on its own: time comes in as
// numbers, so the concurrent case runs with no clock and no lock at all (ThreadSanitizer sees
// only the core's own synchronization).
#include "queue/message_store.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "queue/progress_hook.h"
#include "queue/progress_parking.h"
#include "queue/resident_pages.h"

namespace courier::queue_internal {
namespace {

constexpr int64_t kRetention = 1'000'000;

// Sends one message whose id carries `tag`; visible at `visible_at`.
uint32_t Send(MessageStore& store, uint64_t tag, int64_t now, int64_t visible_at = 0,
              std::string_view body = "body", int64_t retention = kRetention) {
  const uint32_t i = store.Allocate();
  Slot& s = store.at(i);
  s.id = {tag, 0};
  s.set_enqueued(now);
  s.received_ms.store(0);
  s.first_receive_ms.store(0);
  MessageStore::SetBody(s, body, nullptr);
  s.extra = nullptr;
  store.Publish(i, 0, now, visible_at, retention, /*in_order=*/true);
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

// A consumer of the stress tests: receives with timeouts of 1-3 time units until the producers
// are done and it has found nothing 200 times since, and calls `received(i)` for each message
// it took, while it is still being read; then it reads the next.
template <typename F>
void Consume(MessageStore& store, const std::atomic<int64_t>& now, int64_t retention,
             const std::atomic<int>& producers_done, int producers, std::mt19937& random,
             F received) {
  int idle = 0;
  while (idle < 200) {
    Epochs::Guard guard;
    const int64_t t = now.load();
    store.Sweep(t, retention);
    auto v = store.PopVisible();
    if (!v) {
      if (producers_done.load() == producers) ++idle;
      std::this_thread::yield();
      continue;
    }
    idle = 0;
    auto [i, word] = *v;
    const int64_t until = t + 1 + static_cast<int64_t>(random() % 3);
    if (store.Receive(i, word, SlotWord::receives(word) + 1, t, until, retention)) received(i);
  }
}

// The stress tests count how many times each message was removed: once each.
void CheckEachRemovedOnce(const std::vector<std::atomic<int>>& removed) {
  int missing = 0, twice = 0;
  for (const auto& n : removed) {
    missing += n.load() == 0;
    twice += n.load() > 1;
  }
  CHECK(missing == 0);
  CHECK(twice == 0);
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

TEST_CASE("MessageStore: a message is not removed while its receiver reads it", "[store]") {
  auto store = MessageStore::Create();
  Epochs::Guard guard;
  const uint32_t a = Send(*store, 1, 0);
  uint64_t word = store->at(a).word.load();
  REQUIRE(store->Receive(a, word, 1, 0, 100, kRetention));  // being read from now on
  const uint32_t gen = store->at(a).gen();
  word = store->at(a).word.load();
  CHECK_FALSE(store->Remove(a, word));  // only its reader changes a word being read
  CHECK(store->at(a).gen() == gen);
  CHECK(store->at(a).body() == "body");
  CHECK(store->in_flight() == 1);
  store->Read(a);  // the receiver is done
  word = store->at(a).word.load();
  CHECK(SlotWord::state(word) == SlotState::kInFlight);
  CHECK(SlotWord::receives(word) == 1);
  REQUIRE(store->Remove(a, word));
  CHECK(store->at(a).gen() == gen + 1);
  CHECK(store->in_flight() == 0);
}

TEST_CASE("MessageStore: a message that expires while it is read goes once it has been read",
          "[store]") {
  auto store = MessageStore::Create();
  Epochs::Guard guard;
  const uint32_t a = Send(*store, 1, 0);
  uint64_t word = store->at(a).word.load();
  REQUIRE(store->Receive(a, word, 1, 0, 10 * kRetention, kRetention));  // being read
  store->Sweep(kRetention, kRetention);  // its expiry is due: left for a later sweep
  CHECK(store->in_flight() == 1);
  CHECK(store->at(a).body() == "body");
  store->Read(a);
  store->Sweep(kRetention + 1, kRetention);
  CHECK(store->in_flight() == 0);
  CHECK(SlotWord::state(store->at(a).word.load()) == SlotState::kFree);
}

TEST_CASE("MessageStore: a purge removes a message being read once its reader is done", "[store]") {
  auto store = MessageStore::Create();
  Epochs::Guard guard;
  const uint32_t a = Send(*store, 1, 0);
  Send(*store, 2, 0);
  uint64_t word = store->at(a).word.load();
  REQUIRE(store->Receive(a, word, 1, 0, 100, kRetention));  // being read
  std::atomic<int> removed{0};
  std::thread purge([&] {
    Epochs::Guard purge_guard;
    store->Clear([&](uint32_t, uint32_t) { removed.fetch_add(1); });
  });
  CHECK(store->at(a).body() == "body");  // still there for its reader, whatever the purge did
  store->Read(a);
  purge.join();
  CHECK(removed.load() == 2);
  CHECK(store->visible() == 0);
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

using testing::Resident;

TEST_CASE("MessageStore: a drained lane gives its pages back and starts again above them",
          "[store]") {
  constexpr uint32_t kAtLeast = 1024;
  constexpr int kMessages = 100'000;  // slots up to segment 10 (65,536 slots, its own mapping)
  auto store = MessageStore::Create();
  Epochs::Guard guard;
  std::vector<std::pair<uint32_t, uint32_t>> old;  // (slot, generation) of each message
  for (int k = 0; k < kMessages; ++k) {
    const uint32_t i = Send(*store, static_cast<uint64_t>(k), 0);
    old.emplace_back(i, store->at(i).gen());
  }
  const uint32_t high = old.back().first;
  const uint32_t last_version = SlotWord::version(store->at(high).word.load());
  // All but one received and deleted: one message in flight keeps the lane.
  for (int k = 0; k + 1 < kMessages; ++k) {
    const std::optional<uint32_t> i = Receive(*store, 0, 100);
    REQUIRE(i);
    uint64_t word = store->at(*i).word.load();
    REQUIRE(store->Remove(*i, word));
  }
  const std::optional<uint32_t> kept = Receive(*store, 0, 100);
  REQUIRE(kept);
  CHECK(!store->GiveBackIfDrained(0, kAtLeast));
  CHECK(store->slots_used() == kMessages);
  CHECK(Resident(&store->at(high - 1000)));

  uint64_t word = store->at(*kept).word.load();
  REQUIRE(store->Remove(*kept, word));
  REQUIRE(store->GiveBackIfDrained(0, kAtLeast));
  CHECK(store->slots_used() == 0);
  CHECK(!Resident(&store->at(high - 1000)));
  CHECK(store->visible() + store->in_flight() + store->delayed() == 0);

  // Handles of the messages gone still name slots of the lane (a stale handle deletes nothing,
  // it is not an invalid one), and match nothing.
  CHECK(store->contains(high));
  CHECK(SlotWord::state(store->at(high).word.load()) == SlotState::kFree);

  // New messages start from slot 0, above every generation and version the lane had.
  const uint32_t first = Send(*store, 1, 0);
  CHECK((first & ((1u << MessageStore::kLaneBits) - 1)) == 0);
  for (const auto& [i, gen] : old) {
    if (i == first) CHECK(store->at(first).gen() > gen);
  }
  CHECK(SlotWord::version(store->at(first).word.load()) > last_version);
  REQUIRE(Receive(*store, 0, 100) == first);
  CHECK(store->at(first).body() == "body");
  CHECK(store->slots_used() == 1);
}

TEST_CASE("MessageStore: a slot in another thread's released batch keeps the lane's pages",
          "[store]") {
  constexpr int kMessages = MessageStore::kGiveBackAtLeast + 1000;
  auto store = MessageStore::Create();
  Epochs::Guard guard;
  for (int k = 0; k < kMessages; ++k) Send(*store, static_cast<uint64_t>(k), 0);
  std::atomic<int> step{0};
  // Another thread receives and deletes one message: its slot waits in that thread's batch
  // until the thread exits.
  std::thread other([&] {
    {
      Epochs::Guard inner;
      const std::optional<uint32_t> i = Receive(*store, 0, 100);
      uint64_t word = i ? store->at(*i).word.load() : 0;
      if (i && store->Remove(*i, word)) step = 1;
    }
    while (step.load() != 2) std::this_thread::yield();
  });
  while (step.load() != 1) std::this_thread::yield();
  while (auto i = Receive(*store, 0, 100)) {
    uint64_t word = store->at(*i).word.load();
    REQUIRE(store->Remove(*i, word));
  }
  CHECK(store->visible() + store->in_flight() + store->delayed() == 0);
  store->Settle(kRetention);  // as a receive finding the lane empty does: passed by from now on
  CHECK(store->WakeAt() > 0);
  CHECK(!store->GiveBackIfDrained(0));  // one slot is the other thread's
  CHECK(store->slots_used() == kMessages);
  step = 2;
  other.join();  // its batch goes back to the lane, and receives come by the lane again
  CHECK(store->WakeAt() == 0);

  // A sender filling a slot holds it too: the walk finds it missing, and the lane is looked at
  // again a second later.
  const uint32_t filling = store->Allocate();
  CHECK(!store->GiveBackIfDrained(0));
  CHECK(store->slots_used() == kMessages);
  Slot& s = store->at(filling);
  s.id = {9, 0};
  MessageStore::SetBody(s, "late", nullptr);
  s.extra = nullptr;
  store->Publish(filling, 0, 0, 0, kRetention, /*in_order=*/true);
  const std::optional<uint32_t> got = Receive(*store, 0, 100);
  REQUIRE(got == filling);
  uint64_t word = store->at(filling).word.load();
  REQUIRE(store->Remove(filling, word));
  CHECK(!store->GiveBackIfDrained(999'999'999));
  CHECK(store->GiveBackIfDrained(1'000'000'000));
  CHECK(store->slots_used() == 0);
}

// A sender that takes a new slot while a lane gives its memory back (here from the hook
// between the discard and the last CAS, as a thread scheduled there would) makes the lane keep
// its slots: they become free slots again, above every generation and version they had.
TEST_CASE("MessageStore: a send during the give-back keeps the lane's slots, rebuilt", "[store]") {
  constexpr int kMessages = MessageStore::kGiveBackAtLeast + 10;
  auto store = MessageStore::Create();
  Epochs::Guard guard;
  std::vector<std::pair<uint32_t, uint32_t>> old;  // (slot, generation)
  for (int k = 0; k < kMessages; ++k) {
    const uint32_t i = Send(*store, static_cast<uint64_t>(k), 0);
    old.emplace_back(i, store->at(i).gen());
  }
  uint32_t max_version = 0;
  while (auto i = Receive(*store, 0, 100)) {
    uint64_t word = store->at(*i).word.load();
    REQUIRE(store->Remove(*i, word));
    max_version = std::max(max_version, SlotWord::version(store->at(*i).word.load()));
  }
  static MessageStore* target = nullptr;
  static std::optional<uint32_t> sent;
  target = store.get();
  progress_hook = [](ProgressPoint point) {
    if (point == ProgressPoint::kGiveBack && !sent) sent = Send(*target, 999'999, 0);
  };
  const bool gave_back = store->GiveBackIfDrained(0);
  progress_hook = nullptr;
  CHECK(!gave_back);
  REQUIRE(sent);
  CHECK(*sent == static_cast<uint32_t>(kMessages));  // a new slot: the stack was taken
  CHECK(store->slots_used() == kMessages + 1);
  CHECK(store->visible() == 1);

  // Every old slot is free again and comes back to senders, above its old generation and
  // every version the lane had; the message sent meanwhile is there.
  std::set<uint32_t> reused;
  for (int k = 0; k < kMessages; ++k) {
    const uint32_t i = Send(*store, static_cast<uint64_t>(k), 0);
    CHECK(i < static_cast<uint32_t>(kMessages));
    reused.insert(i);
    CHECK(store->at(i).gen() > old[i].second);
    CHECK(SlotWord::version(store->at(i).word.load()) > max_version);
  }
  CHECK(reused.size() == kMessages);
  CHECK(store->slots_used() == kMessages + 1);
  int found = 0;
  while (auto i = Receive(*store, 0, 100)) {
    found += store->at(*i).id.hi == 999'999;
    CHECK(store->at(*i).body() == "body");
    uint64_t word = store->at(*i).word.load();
    REQUIRE(store->Remove(*i, word));
  }
  CHECK(found == 1);
}

// A thread stopped in the middle of a give-back (the free stack taken, the pages gone) holds
// up no one: other threads send, receive and delete thousands of messages meanwhile, in new
// slots; then it goes on, finds the lane in use, and its slots become free ones again.
TEST_CASE("MessageStore: others complete while a thread is parked in a give-back", "[store]") {
  constexpr int kMessages = MessageStore::kGiveBackAtLeast + 10, kOthers = 4000;
  auto store = MessageStore::Create();
  testing::ParkingHook hook;
  hook.Arm(ProgressPoint::kGiveBack);
  std::atomic<bool> gave_back{true};
  std::thread parked([&] {
    {
      Epochs::Guard guard;
      for (int k = 0; k < kMessages; ++k) Send(*store, static_cast<uint64_t>(k), 0);
      while (auto i = Receive(*store, 0, 100)) {
        uint64_t word = store->at(*i).word.load();
        REQUIRE(store->Remove(*i, word));
      }
    }
    gave_back = store->GiveBackIfDrained(0);
  });
  REQUIRE(hook.WaitParked(std::chrono::steady_clock::now() + std::chrono::seconds(60)));
  int done = 0;
  std::thread other([&] {
    Epochs::Guard guard;
    for (int k = 0; k < kOthers; ++k) {
      Send(*store, 1'000'000 + static_cast<uint64_t>(k), 0);
      const std::optional<uint32_t> i = Receive(*store, 0, 100);
      if (!i) continue;
      uint64_t word = store->at(*i).word.load();
      if (store->Remove(*i, word)) ++done;
    }
  });
  other.join();  // while the give-back stays parked
  CHECK(done == kOthers);
  hook.Release();
  parked.join();
  CHECK(!gave_back);
  CHECK(store->visible() + store->in_flight() + store->delayed() == 0);
  CHECK(store->slots_used() > static_cast<uint32_t>(kMessages));  // the others' new slots
}

// Two consumers drain a lane, each left holding a batch of released slots: the first to find
// the lane empty gives its batch back, which brings receives by again, and the second, holding
// the only batch left, gives the lane back.
TEST_CASE("MessageStore: two consumers' batches come back and the lane is given back", "[store]") {
  // 1,000 a turn: the one ending the drain has removed 33,537 messages and the other 33,000,
  // so that each holds a part of a batch of 32 at the end.
  constexpr int kMessages = MessageStore::kGiveBackAtLeast + 1001;
  auto store = MessageStore::Create();
  {
    Epochs::Guard guard;
    for (int k = 0; k < kMessages; ++k) Send(*store, static_cast<uint64_t>(k), 0);
  }
  // They take turns, so that the order is the same on every run.
  std::atomic<int> turn{0};
  auto consumer = [&](int me) {
    for (;;) {
      while (turn.load() % 2 != me) std::this_thread::yield();
      if (store->slots_used() == 0 || turn.load() > 400) {
        ++turn;
        return;
      }
      Epochs::Guard guard;
      for (int k = 0; k < 1000; ++k) {  // a share of the messages, while there are any
        const std::optional<uint32_t> i = Receive(*store, 0, 100);
        if (!i) {  // as a receive that finds the lane empty does
          store->Settle(kRetention);
          store->GiveBackIfDrained(0);
          break;
        }
        uint64_t word = store->at(*i).word.load();
        REQUIRE(store->Remove(*i, word));
      }
      ++turn;
    }
  };
  std::thread a(consumer, 0), b(consumer, 1);
  a.join();
  b.join();
  CHECK(store->slots_used() == 0);
  CHECK(turn.load() < 400);
  CHECK(store->visible() + store->in_flight() + store->delayed() == 0);
}

// Producers in bursts, consumers that delete all they receive, and a thread that keeps trying
// to give the lane's memory back: every message is received and deleted exactly once, and the
// lane is given back whenever it is found drained.
TEST_CASE("MessageStore: giving memory back races sends, receives and deletes", "[store][stress]") {
  constexpr int kProducers = 4, kConsumers = 4, kPerProducer = 3000;
  constexpr int kTotal = kProducers * kPerProducer;
  auto store = MessageStore::Create();
  std::atomic<int> producers_done{0}, consumers_done{0}, gave_back{0};
  std::vector<std::atomic<int>> removed(kTotal);
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int k = 0; k < kPerProducer; ++k) {
        Epochs::Guard guard;
        Send(*store, static_cast<uint64_t>(p * kPerProducer + k), 0);
        if (k % 200 == 199) {  // a pause, so that the lane drains now and then
          for (int n = 0; n < 2000 && store->visible() > 0; ++n) std::this_thread::yield();
        }
      }
      ++producers_done;
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      int idle = 0;
      while (idle < 200) {
        Epochs::Guard guard;
        const std::optional<uint32_t> i = Receive(*store, 0, 100);
        if (!i) {
          if (producers_done.load() == kProducers) ++idle;
          MessageStore::FlushRemoved();  // an idle consumer's batch goes back
          std::this_thread::yield();
          continue;
        }
        idle = 0;
        const auto tag = static_cast<size_t>(store->at(*i).id.hi);
        uint64_t word = store->at(*i).word.load();
        if (store->Remove(*i, word)) ++removed[tag];
      }
      ++consumers_done;
    });
  }
  threads.emplace_back([&] {
    for (int64_t attempt = 1; consumers_done.load() < kConsumers; ++attempt) {
      Epochs::Guard guard;
      if (store->GiveBackIfDrained(attempt * 1'000'000'000, 64)) ++gave_back;
      std::this_thread::yield();
    }
  });
  for (auto& t : threads) t.join();
  CheckEachRemovedOnce(removed);
  CHECK(store->visible() + store->in_flight() + store->delayed() == 0);
  // Drained now, with every batch handed back (the threads have exited): it gives back.
  MessageStore::FlushRemoved();
  CHECK((store->slots_used() < 64 || store->GiveBackIfDrained(INT64_MAX / 2, 64)));
  UNSCOPED_INFO("given back during the run: " << gave_back.load());
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
      Consume(*store, now, kForever, producers_done, kProducers, random, [&](uint32_t i) {
        const auto tag = static_cast<size_t>(store->at(i).id.hi);
        store->Read(i);
        uint64_t word = store->at(i).word.load();
        if (random() % 2 == 0 && store->Remove(i, word)) ++removed[tag];
      });
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
  CheckEachRemovedOnce(removed);
  CHECK(store->visible() == 0);
  CHECK(store->in_flight() == 0);
  CHECK(store->delayed() == 0);
}

// Receivers read while expiries, deletes and purges race them: a receiver's copy is always of
// the message it took (its body names its id), nothing is removed twice, and the counts come
// back to zero.
TEST_CASE("MessageStore: purges and expiries while messages are being read", "[store][stress]") {
  constexpr int kProducers = 4, kConsumers = 4, kPerProducer = 3000;
  constexpr int64_t kShortRetention = 40;
  auto store = MessageStore::Create();
  std::atomic<int64_t> now{1};
  std::atomic<int> producers_done{0}, consumers_done{0}, purged{0}, wrong_copies{0};
  std::vector<std::atomic<int>> deleted(kProducers * kPerProducer);
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int k = 0; k < kPerProducer; ++k) {
        const auto tag = static_cast<uint64_t>(p * kPerProducer + k);
        Epochs::Guard guard;
        Send(*store, tag, now.load(), 0, std::to_string(tag), kShortRetention);
      }
      ++producers_done;
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 random(c);
      Consume(*store, now, kShortRetention, producers_done, kProducers, random, [&](uint32_t i) {
        const uint64_t tag = store->at(i).id.hi;
        std::this_thread::yield();  // a purge or an expiry may come now
        if (store->at(i).body() != std::to_string(tag)) ++wrong_copies;
        store->Read(i);
        uint64_t word = store->at(i).word.load();
        if (random() % 2 == 0 && store->Remove(i, word)) ++deleted[tag];
      });
      ++consumers_done;
    });
  }
  threads.emplace_back([&] {  // the time, and a purge now and then
    for (int round = 0; consumers_done.load() < kConsumers; ++round) {
      now.fetch_add(1);
      if (round % 64 == 0) {
        Epochs::Guard guard;
        store->Clear([&](uint32_t, uint32_t) { ++purged; });
      }
      std::this_thread::yield();
    }
  });
  for (auto& t : threads) t.join();
  Epochs::Guard guard;
  store->Clear([&](uint32_t, uint32_t) { ++purged; });
  CHECK(wrong_copies.load() == 0);
  int deletes = 0;
  for (const auto& n : deleted) {
    CHECK(n.load() <= 1);
    deletes += n.load();
  }
  CHECK(deletes + purged.load() <= kProducers * kPerProducer);
  CHECK(store->visible() == 0);
  CHECK(store->in_flight() == 0);
  CHECK(store->delayed() == 0);
}

}  // namespace
}  // namespace courier::queue_internal
