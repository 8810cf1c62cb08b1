// A drained FIFO core gives its slab's pages back (FifoGroups::GiveBackIfDrained): the pages
// go, old receipts stay gone, and the groups go on in order in new slots; a message stored, or
// a sender in the middle of a push, keeps its shard's slab; an idle consumer's retired slots
// keep it until collected; and it races every other operation.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "queue/fifo_groups.h"
#include "queue/progress_hook.h"
#include "queue/progress_parking.h"
#include "queue/resident_pages.h"

namespace courier::queue_internal {
namespace {

using Groups = FifoGroups<std::string>;
using testing::Resident;

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
const int64_t kT0Ns = absl::ToUnixNanos(kT0);
constexpr int kGroups = 64;

struct Got {
  std::string value;
  FifoReceipt receipt;
};
struct TakeAll {
  std::vector<Got>* out;
  FifoVerdict Check(const Groups::Node&) { return FifoVerdict::kTake; }
  void Taken(const Groups::Node& n, FifoReceipt r) { out->push_back({n.value, r}); }
};

std::string GroupOf(int k) { return "group-" + std::to_string(k % kGroups); }

void PushAll(Groups& g, const std::string& prefix, int n) {
  for (int k = 0; k < n; ++k) g.Push(GroupOf(k), prefix + std::to_string(k), kT0);
}

// Receives and deletes everything; returns what was received, in the order received.
std::vector<Got> Drain(Groups& g) {
  std::vector<Got> all;
  for (;;) {
    std::vector<Got> batch;
    g.Receive(kT0, absl::ZeroDuration(), 10, absl::Seconds(30), TakeAll{&batch});
    if (batch.empty()) return all;
    for (const Got& got : batch) REQUIRE(g.Delete(got.receipt, kT0) == FifoOutcome::kOk);
    all.insert(all.end(), batch.begin(), batch.end());
  }
}

// The receipt of the message in the highest slot.
FifoReceipt Highest(const std::vector<Got>& got) {
  return std::max_element(
             got.begin(), got.end(),
             [](const Got& a, const Got& b) { return a.receipt.slot < b.receipt.slot; })
      ->receipt;
}
// A slot in the middle of the segment of slots 960-1983 of the busiest shard of `got`, which
// used them all: its page lies wholly among slots used.
const void* MiddleSlot(const Groups& g, const std::vector<Got>& got) {
  const FifoReceipt high = Highest(got);
  REQUIRE(high.slot >= 1984);
  return g.SlotAddress(high.shard, 1500);
}

// Each group's values in the order received are the order pushed (k, k + kGroups, ...).
void CheckGroupOrder(const std::vector<Got>& got, const std::string& prefix) {
  std::map<int, int> next;  // group -> the next k expected
  for (const Got& x : got) {
    REQUIRE(x.value.starts_with(prefix));
    const int k = std::stoi(x.value.substr(prefix.size()));
    auto [it, fresh] = next.try_emplace(k % kGroups, k % kGroups);
    CHECK(k == it->second);
    it->second = k + kGroups;
  }
}

TEST_CASE("FifoGroups: a drained core gives its slab's pages back and goes on in order") {
  constexpr int kMessages = 40'000;  // about 2,500 slots a shard: segments up to 2,048 slots
  Groups g;
  PushAll(g, "a", kMessages);
  const std::vector<Got> first = Drain(g);
  REQUIRE(first.size() == kMessages);
  CheckGroupOrder(first, "a");
  const FifoReceipt high = Highest(first);
  const void* middle = MiddleSlot(g, first);
  REQUIRE(Resident(middle));
  CHECK(g.Delete(high, kT0) == FifoOutcome::kGone);  // deleted already

  CHECK(g.GiveBackIfDrained(kT0Ns, /*at_least=*/64));
  CHECK(!Resident(middle));
  CHECK(g.size() == 0);
  // Old receipts name no message, as before.
  CHECK(g.Delete(high, kT0) == FifoOutcome::kGone);
  CHECK(g.ChangeVisibility(first.front().receipt, kT0, absl::Seconds(5), absl::Hours(12)) ==
        FifoOutcome::kGone);

  // The same groups go on: in order, in slots from 0 again, with greater sequence numbers.
  uint64_t last_seq = 0;
  for (const Got& x : first) last_seq = std::max(last_seq, x.receipt.seq);
  PushAll(g, "b", 1000);
  CHECK(g.size() == 1000);
  const std::vector<Got> second = Drain(g);
  REQUIRE(second.size() == 1000);
  CheckGroupOrder(second, "b");
  for (const Got& x : second) {
    CHECK(x.receipt.seq > last_seq);
    CHECK(x.receipt.slot < 1000);
  }
  // Drained again: given back again (the relays of the first time are passed and freed).
  CHECK(g.GiveBackIfDrained(kT0Ns, /*at_least=*/1));
  PushAll(g, "c", 100);
  CheckGroupOrder(Drain(g), "c");
}

// A message in flight blocks its group, whose other messages stay queued: their shard keeps
// its slab, and the others give theirs back. Once that group drains too, its shard follows.
TEST_CASE("FifoGroups: a shard that stores a message keeps its slab; the others give theirs") {
  Groups g;
  PushAll(g, "a", 40'000);
  std::vector<Got> held;
  g.Receive(kT0, absl::ZeroDuration(), 1, absl::Seconds(30), TakeAll{&held});
  REQUIRE(held.size() == 1);  // in flight: the rest of its group waits
  const std::vector<Got> rest = Drain(g);
  CHECK(rest.size() < 40'000u - 1);
  const uint32_t kept = held[0].receipt.shard;
  std::vector<Got> others;
  std::copy_if(rest.begin(), rest.end(), std::back_inserter(others),
               [&](const Got& x) { return x.receipt.shard != kept; });
  const void* other = MiddleSlot(g, others);
  REQUIRE(Resident(other));
  CHECK(g.GiveBackIfDrained(kT0Ns, 64));
  CHECK(!Resident(other));
  CHECK(!g.GiveBackIfDrained(kT0Ns, 64));  // the kept shard still stores its group's messages

  REQUIRE(g.Delete(held[0].receipt, kT0) == FifoOutcome::kOk);
  const std::vector<Got> last = Drain(g);
  CHECK(last.size() == 40'000u - 1 - rest.size());
  CHECK(g.size() == 0);
  CHECK(!g.GiveBackIfDrained(kT0Ns + 999'999'999, 64));   // within a second of a look for none
  CHECK(g.GiveBackIfDrained(kT0Ns + 1'000'000'000, 64));  // the kept shard: it had its slots
}

// A sender that takes a new slot while a shard gives its memory back (here from the hook
// between the discard and the last CAS, as a thread scheduled there would) makes the shard keep
// its slots: they are built again as free slots, and every message goes on in order.
TEST_CASE("FifoGroups: a push during the give-back keeps the shard's slots, built again") {
  constexpr int kMessages = 20'000;
  Groups g;
  PushAll(g, "a", kMessages);
  REQUIRE(Drain(g).size() == kMessages);
  // The group of the lowest shard: shards give back in order, so its shard is the first.
  static int during_group = 0;
  for (int k = 0; k < kGroups; ++k) {
    if (Groups::ShardOf(GroupOf(k)) < Groups::ShardOf(GroupOf(during_group))) during_group = k;
  }
  static Groups* target = nullptr;
  static int calls = 0;
  target = &g;
  calls = 0;
  progress_hook = [](ProgressPoint point) {
    if (point == ProgressPoint::kGiveBack && calls++ == 0) {
      target->Push(GroupOf(during_group), "during", kT0);
    }
  };
  const bool gave_back = g.GiveBackIfDrained(kT0Ns, 64);
  progress_hook = nullptr;
  CHECK(!gave_back);  // that shard kept its slots (the others gave theirs back)
  CHECK(calls > 1);
  CHECK(g.size() == 1);
  PushAll(g, "b", kMessages);
  const std::vector<Got> after = Drain(g);
  REQUIRE(after.size() == kMessages + 1);
  std::vector<Got> bs;
  for (const Got& x : after) {
    if (x.value != "during") {
      bs.push_back(x);
      continue;
    }
    // Before every b of its group.
    CHECK(std::none_of(bs.begin(), bs.end(), [](const Got& y) {
      return std::stoi(y.value.substr(1)) % kGroups == during_group;
    }));
  }
  CHECK(bs.size() == kMessages);
  CheckGroupOrder(bs, "b");
  CHECK(g.GiveBackIfDrained(kT0Ns + 1'000'000'000, 64));  // a second after the walk in use
}

// The slots a thread deletes wait in its own epoch lists until it retires more: a consumer
// that drained a queue and went idle keeps its shards from being given back, until it collects
// them (as FifoQueue's receives do before a long poll's wait).
TEST_CASE("FifoGroups: an idle consumer's retired slots keep the slab until it collects them") {
  Groups g;
  PushAll(g, "a", 20'000);
  std::atomic<int> step{0};  // 1: drained; 2: collect; 3: collected; 4: exit
  std::thread consumer([&] {
    REQUIRE(Drain(g).size() == 20'000);
    step = 1;
    while (step.load() != 2) std::this_thread::yield();
    Epochs::Collect();
    step = 3;
    while (step.load() != 4) std::this_thread::yield();
  });
  while (step.load() != 1) std::this_thread::yield();
  CHECK(!g.GiveBackIfDrained(kT0Ns, 64));
  step = 2;
  while (step.load() != 3) std::this_thread::yield();
  CHECK(g.GiveBackIfDrained(kT0Ns + 1'000'000'000, 64));
  step = 4;
  consumer.join();
}

// A thread stopped in the middle of a give-back holds up no one: others push, receive and
// delete thousands of messages meanwhile; then it goes on and finds its shard in use.
TEST_CASE("FifoGroups: others complete while a thread is parked in a give-back") {
  constexpr int kMessages = 20'000, kOthers = 4000;
  Groups g;
  PushAll(g, "a", kMessages);
  REQUIRE(Drain(g).size() == kMessages);
  testing::ParkingHook hook;  // parks the first thread at the point armed
  hook.Arm(ProgressPoint::kGiveBack);
  std::atomic<bool> gave_back{true};
  std::thread parked([&] { gave_back = g.GiveBackIfDrained(kT0Ns, 64); });
  REQUIRE(hook.WaitParked(std::chrono::steady_clock::now() + std::chrono::seconds(60)));
  int done = 0;
  std::thread other([&] {
    for (int k = 0; k < kOthers; ++k) {
      g.Push(GroupOf(k), "o" + std::to_string(k), kT0);
      std::vector<Got> batch;
      g.Receive(kT0, absl::ZeroDuration(), 10, absl::Seconds(30), TakeAll{&batch});
      for (const Got& x : batch) done += g.Delete(x.receipt, kT0) == FifoOutcome::kOk;
    }
  });
  other.join();  // while the give-back stays parked
  CHECK(done == kOthers);
  hook.Release();
  parked.join();
  CHECK(!gave_back);
  CHECK(g.size() == 0);
  PushAll(g, "b", 1000);
  CheckGroupOrder(Drain(g), "b");
}

// Producers in bursts, and consumers that delete all they receive and, finding nothing, try
// to give the slab back (as FifoQueue's receives do, on a clock that moves 10 s a try, past
// the waits): every message is received and deleted exactly once, in its group's
// order, while the slab is given back whenever it is found drained.
TEST_CASE("FifoGroups: giving memory back races pushes, receives and deletes", "[stress]") {
  constexpr int kProducers = 4, kConsumers = 4, kPerProducer = 3000, kPerGroup = 8;
  constexpr int kTotal = kProducers * kPerProducer;
  Groups g;
  std::vector<std::atomic<int>> received(kTotal);
  std::atomic<int> producers_done{0}, gave_back{0}, out_of_order{0}, failed_deletes{0};
  std::atomic<int64_t> clock{kT0Ns};
  // Per group, the last id received: a group's next batch comes only after its last one is
  // deleted, whichever consumer takes it.
  std::vector<std::atomic<int>> last(kProducers * kPerGroup);
  for (auto& l : last) l = -1;
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int k = 0; k < kPerProducer; ++k) {
        // Producer p owns groups p * kPerGroup ...: its ids in each are increasing.
        const int id = p * kPerProducer + k;
        g.Push("p" + std::to_string(p) + "-" + std::to_string(k % kPerGroup), std::to_string(id),
               kT0);
        if (k % 500 == 499) {  // a burst, then a pause: drained, and a while after
          while (g.size() > 0) std::this_thread::yield();
          for (int i = 0; i < 200; ++i) std::this_thread::yield();
        }
      }
      ++producers_done;
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      while (producers_done.load() < kProducers || g.size() > 0) {
        std::vector<Got> batch;
        g.Receive(kT0, absl::ZeroDuration(), 10, absl::Seconds(30), TakeAll{&batch});
        for (const Got& x : batch) {
          const int id = std::stoi(x.value);
          received[id].fetch_add(1);
          std::atomic<int>& l = last[id / kPerProducer * kPerGroup + id % kPerProducer % kPerGroup];
          if (l.load(std::memory_order_relaxed) >= id) ++out_of_order;
          l.store(id, std::memory_order_relaxed);
          if (g.Delete(x.receipt, kT0) != FifoOutcome::kOk) ++failed_deletes;  // no Catch here
        }
        if (batch.empty()) {
          gave_back += g.GiveBackIfDrained(clock.fetch_add(10'000'000'000), 1);
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int id = 0; id < kTotal; ++id) CHECK(received[id].load() == 1);
  CHECK(out_of_order.load() == 0);
  CHECK(failed_deletes.load() == 0);
  CHECK(g.size() == 0);
  // Drained at the end, by threads gone: given back now, if the last consumer did not.
  gave_back += g.GiveBackIfDrained(clock.load() + 1'000'000'000'000, 1);
  CHECK(gave_back.load() > 0);
  PushAll(g, "z", 500);
  CheckGroupOrder(Drain(g), "z");
  UNSCOPED_INFO("given back " << gave_back.load() << " times");
}

}  // namespace
}  // namespace courier::queue_internal
