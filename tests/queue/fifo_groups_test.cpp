// The FIFO core on its own: group order, blocking, lapses, delays, receipts, counts.
#include "queue/fifo_groups.h"

#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace courier::queue_internal {
namespace {

using Groups = FifoGroups<std::string>;

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

struct Got {
  std::string value;
  FifoReceipt receipt;
  uint32_t receives;
};

// Takes everything it is shown; records what it took.
struct TakeAll {
  std::vector<Got>* out;
  FifoVerdict Check(const Groups::Node&) { return FifoVerdict::kTake; }
  void Taken(const Groups::Node& n, FifoReceipt r) { out->push_back({n.value, r, n.receives}); }
};

std::vector<Got> Receive(Groups& g, absl::Time now, int max,
                         absl::Duration visibility = absl::Seconds(30),
                         absl::Duration delay = absl::ZeroDuration()) {
  std::vector<Got> out;
  g.Receive(now, delay, max, visibility, TakeAll{&out});
  return out;
}

std::vector<std::string> Values(const std::vector<Got>& got) {
  std::vector<std::string> v;
  for (const Got& g : got) v.push_back(g.value);
  return v;
}

TEST_CASE("FifoGroups: one group is delivered strictly in order, one batch at a time") {
  Groups g;
  for (int i = 0; i < 5; ++i) g.Push("g", "m" + std::to_string(i), kT0);
  auto first = Receive(g, kT0, 3);
  CHECK(Values(first) == std::vector<std::string>{"m0", "m1", "m2"});
  // m3 is not returned while m0..m2 are in flight.
  CHECK(Receive(g, kT0, 10).empty());
  for (const Got& got : first) CHECK(g.Delete(got.receipt, kT0) == FifoOutcome::kOk);
  CHECK(Values(Receive(g, kT0, 10)) == std::vector<std::string>{"m3", "m4"});
}

TEST_CASE("FifoGroups: the group stays blocked until every in-flight message resolves") {
  Groups g;
  for (int i = 0; i < 3; ++i) g.Push("g", "m" + std::to_string(i), kT0);
  auto got = Receive(g, kT0, 2);
  REQUIRE(got.size() == 2);
  CHECK(g.Delete(got[0].receipt, kT0) == FifoOutcome::kOk);
  CHECK(Receive(g, kT0, 10).empty());  // m1 still in flight
  CHECK(g.Delete(got[1].receipt, kT0) == FifoOutcome::kOk);
  CHECK(Values(Receive(g, kT0, 10)) == std::vector<std::string>{"m2"});
}

TEST_CASE("FifoGroups: a receive takes as many of one group as it can, then other groups") {
  Groups g;
  for (int i = 0; i < 4; ++i) g.Push("a", "a" + std::to_string(i), kT0);
  for (int i = 0; i < 4; ++i) g.Push("b", "b" + std::to_string(i), kT0);
  auto got = Receive(g, kT0, 6);
  REQUIRE(got.size() == 6);
  // Whichever group comes first is taken whole before the other is started.
  const std::string first = got[0].value.substr(0, 1);
  const std::string second = first == "a" ? "b" : "a";
  for (int i = 0; i < 4; ++i) CHECK(got[i].value == first + std::to_string(i));
  CHECK(got[4].value == second + "0");
  CHECK(got[5].value == second + "1");
  CHECK(Receive(g, kT0, 10).empty());  // both groups blocked
}

TEST_CASE("FifoGroups: a lapsed message is first in its group again, at the exact instant") {
  Groups g;
  g.Push("g", "m0", kT0);
  g.Push("g", "m1", kT0);
  auto got = Receive(g, kT0, 1);
  REQUIRE(Values(got) == std::vector<std::string>{"m0"});
  CHECK(Receive(g, kT0 + absl::Seconds(30) - absl::Milliseconds(1), 10).empty());
  auto again = Receive(g, kT0 + absl::Seconds(30), 10);
  CHECK(Values(again) == std::vector<std::string>{"m0", "m1"});
  CHECK(again[0].receives == 2);
  CHECK(again[1].receives == 1);
  // The first receive's handle is stale now.
  CHECK(g.Delete(got[0].receipt, kT0 + absl::Seconds(30)) == FifoOutcome::kExpired);
}

TEST_CASE("FifoGroups: lapses of several in-flight messages keep sequence order") {
  Groups g;
  for (int i = 0; i < 4; ++i) g.Push("g", "m" + std::to_string(i), kT0);
  auto got = Receive(g, kT0, 3);
  REQUIRE(got.size() == 3);
  // m1 lapses first (visibility 0), then m0 and m2 at 30 s.
  CHECK(g.ChangeVisibility(got[1].receipt, kT0, absl::ZeroDuration(), absl::Hours(12)) ==
        FifoOutcome::kOk);
  CHECK(Receive(g, kT0, 10).empty());  // m0 and m2 still in flight
  auto again = Receive(g, kT0 + absl::Seconds(30), 10);
  CHECK(Values(again) == std::vector<std::string>{"m0", "m1", "m2", "m3"});
}

TEST_CASE("FifoGroups: delete outcomes: ok, expired at the deadline, gone after delete") {
  Groups g;
  g.Push("g", "m0", kT0);
  auto got = Receive(g, kT0, 1, absl::Seconds(10));
  REQUIRE(got.size() == 1);
  SECTION("just before the deadline") {
    CHECK(g.Delete(got[0].receipt, kT0 + absl::Seconds(10) - absl::Milliseconds(1)) ==
          FifoOutcome::kOk);
    CHECK(g.Delete(got[0].receipt, kT0 + absl::Seconds(10)) == FifoOutcome::kGone);
    CHECK(g.size() == 0);
  }
  SECTION("at the deadline") {
    CHECK(g.Delete(got[0].receipt, kT0 + absl::Seconds(10)) == FifoOutcome::kExpired);
    CHECK(g.size() == 1);
  }
  SECTION("extended visibility keeps the receipt valid") {
    CHECK(g.ChangeVisibility(got[0].receipt, kT0 + absl::Seconds(5), absl::Seconds(60),
                             absl::Hours(12)) == FifoOutcome::kOk);
    CHECK(g.Delete(got[0].receipt, kT0 + absl::Seconds(64)) == FifoOutcome::kOk);
  }
  SECTION("a forged receipt") {
    FifoReceipt bad = got[0].receipt;
    bad.receive = 7;
    CHECK(g.Delete(bad, kT0) == FifoOutcome::kExpired);
    bad.seq = 999;
    CHECK(g.Delete(bad, kT0) == FifoOutcome::kGone);
    bad.shard = 1000;
    CHECK(g.Delete(bad, kT0) == FifoOutcome::kGone);
  }
}

TEST_CASE("FifoGroups: visibility change is capped at 12 hours from the receive") {
  Groups g;
  g.Push("g", "m0", kT0);
  auto got = Receive(g, kT0, 1);
  REQUIRE(got.size() == 1);
  const absl::Time t = kT0 + absl::Seconds(20);
  CHECK(g.ChangeVisibility(got[0].receipt, t, absl::Hours(12) - absl::Seconds(20),
                           absl::Hours(12)) == FifoOutcome::kOk);
  CHECK(g.ChangeVisibility(got[0].receipt, t, absl::Hours(12) - absl::Seconds(19),
                           absl::Hours(12)) == FifoOutcome::kLimitExceeded);
}

TEST_CASE("FifoGroups: delayed messages wait without blocking their own or other groups") {
  Groups g;
  const absl::Duration delay = absl::Seconds(10);
  g.Push("a", "a0", kT0);
  g.Push("b", "b0", kT0 + absl::Seconds(5));
  CHECK(Receive(g, kT0 + absl::Seconds(10) - absl::Milliseconds(1), 10, absl::Seconds(30), delay)
            .empty());
  CHECK(Values(Receive(g, kT0 + absl::Seconds(10), 10, absl::Seconds(30), delay)) ==
        std::vector<std::string>{"a0"});
  auto counts = g.Count(kT0 + absl::Seconds(10), delay);
  CHECK(counts.in_flight == 1);
  CHECK(counts.delayed == 1);
  CHECK(counts.visible == 0);
  // The queue's delay is read at receive time: lowering it releases b0 at once.
  CHECK(Values(Receive(g, kT0 + absl::Seconds(10), 10, absl::Seconds(30), absl::Seconds(1))) ==
        std::vector<std::string>{"b0"});
}

TEST_CASE("FifoGroups: sequence numbers increase across groups") {
  Groups g;
  uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    uint64_t seq = g.Push("g" + std::to_string(i % 7), "x", kT0);
    CHECK(seq > last);
    last = seq;
  }
}

TEST_CASE("FifoGroups: PushIf keeps a message only when confirmed, and nobody sees it before") {
  Groups g;
  REQUIRE(g.Push("g", "a", kT0) > 0);
  uint64_t confirmed_seq = 0;
  // Confirmed: in place with its sequence number when confirm runs, kept afterwards.
  CHECK(g.PushIf(
      "g", kT0, [](std::string& v) { v = "b"; },
      [&](std::string& v, uint64_t seq) {
        CHECK(v == "b");
        confirmed_seq = seq;
        return true;
      }));
  // Refused: taken back, in a group of its own that existed already and in one it created.
  std::string seen;
  CHECK_FALSE(g.PushIf(
      "g", kT0, [](std::string& v) { v = "dup"; },
      [&](std::string& v, uint64_t) {
        seen = v;
        return false;
      }));
  CHECK(seen == "dup");
  CHECK_FALSE(g.PushIf(
      "new", kT0, [](std::string& v) { v = "dup2"; },
      [](std::string&, uint64_t) { return false; }));
  CHECK(g.size() == 2);
  CHECK(g.Count(kT0, absl::ZeroDuration()).visible == 2);
  const auto got = Receive(g, kT0, 10);
  CHECK(Values(got) == std::vector<std::string>{"a", "b"});
  REQUIRE(got.size() == 2);
  CHECK(got[1].receipt.seq == confirmed_seq);
  // A group whose only push was refused is not left ready: nothing more to receive, and later
  // pushes still get greater sequence numbers.
  CHECK(Receive(g, kT0, 10).empty());
  CHECK(g.Push("new", "c", kT0) > confirmed_seq);
  CHECK(Values(Receive(g, kT0, 10)) == std::vector<std::string>{"c"});
}

TEST_CASE("FifoGroups: a visitor can remove messages and skip groups") {
  Groups g;
  g.Push("g", "drop", kT0);
  g.Push("g", "keep", kT0);
  g.Push("h", "skip", kT0);
  struct Visitor {
    std::vector<std::string> taken;
    FifoVerdict Check(const Groups::Node& n) {
      if (n.value == "drop") return FifoVerdict::kRemove;
      if (n.value == "skip") return FifoVerdict::kSkipGroup;
      return FifoVerdict::kTake;
    }
    void Taken(const Groups::Node& n, FifoReceipt) { taken.push_back(n.value); }
  } v;
  CHECK(g.Receive(kT0, absl::ZeroDuration(), 10, absl::Seconds(30), v) == 1);
  CHECK(v.taken == std::vector<std::string>{"keep"});
  CHECK(g.size() == 2);  // "keep" in flight, "skip" queued
  CHECK(Values(Receive(g, kT0, 10)) == std::vector<std::string>{"skip"});
}

TEST_CASE("FifoGroups: counts, RemoveIf and Clear") {
  Groups g;
  for (int i = 0; i < 3; ++i) g.Push("g", "old" + std::to_string(i), kT0);
  g.Push("h", "new", kT0 + absl::Seconds(100));
  auto got = Receive(g, kT0 + absl::Seconds(100), 1);  // one of the groups' heads
  auto c = g.Count(kT0 + absl::Seconds(100), absl::ZeroDuration());
  CHECK(c.in_flight == 1);
  CHECK(c.visible == 3);
  // Retention: everything enqueued at kT0 goes, in flight or not.
  CHECK(g.RemoveIf([](const Groups::Node& n) { return n.enqueued <= kT0; }) == 3);
  CHECK(g.size() == 1);
  g.Clear();
  CHECK(g.size() == 0);
  CHECK(Receive(g, kT0 + absl::Hours(1), 10).empty());
}

TEST_CASE("FifoGroups: Renew returns the same receive, also after a lapse nobody took") {
  Groups g;
  g.Push("g", "m0", kT0);
  g.Push("g", "m1", kT0);
  g.Push("g", "m2", kT0);
  auto got = Receive(g, kT0, 2);
  REQUIRE(got.size() == 2);
  std::vector<FifoReceipt> receipts{got[0].receipt, got[1].receipt};
  CHECK(g.Renew(receipts, kT0 + absl::Seconds(20), absl::Seconds(30)));
  // Renewed to t+50: still in flight at t+49.999.
  CHECK(Receive(g, kT0 + absl::Seconds(50) - absl::Milliseconds(1), 10).empty());
  // Lapsed at t+50, then swept back by a receive that found nothing else... simulate with Count.
  g.Count(kT0 + absl::Seconds(60), absl::ZeroDuration());
  CHECK(g.Renew(receipts, kT0 + absl::Seconds(60), absl::Seconds(30)));
  CHECK(g.Delete(got[0].receipt, kT0 + absl::Seconds(61)) == FifoOutcome::kOk);
  CHECK(g.Delete(got[1].receipt, kT0 + absl::Seconds(61)) == FifoOutcome::kOk);
  CHECK(Values(Receive(g, kT0 + absl::Seconds(61), 10)) == std::vector<std::string>{"m2"});
  // Once received again by someone else, the old receipts cannot be renewed.
  Groups h;
  h.Push("g", "x", kT0);
  auto first = Receive(h, kT0, 1);
  auto second = Receive(h, kT0 + absl::Seconds(30), 1);
  REQUIRE(second.size() == 1);
  CHECK_FALSE(h.Renew({first[0].receipt}, kT0 + absl::Seconds(31), absl::Seconds(30)));
}

TEST_CASE("FifoGroups: TakeOldest takes the oldest available message of a free group") {
  Groups g;
  g.Push("a", "a0", kT0);
  g.Push("b", "b0", kT0);
  g.Push("a", "a1", kT0);
  std::vector<std::string> taken;
  auto take = [&](Groups::Node&& n) { taken.push_back(n.value); };
  CHECK(g.TakeOldest(kT0, absl::ZeroDuration(), take));
  CHECK(g.TakeOldest(kT0, absl::ZeroDuration(), take));
  CHECK(g.TakeOldest(kT0, absl::ZeroDuration(), take));
  CHECK_FALSE(g.TakeOldest(kT0, absl::ZeroDuration(), take));
  CHECK(taken == std::vector<std::string>{"a0", "b0", "a1"});
}

TEST_CASE("FifoGroups: past the in-flight limit a receive finds nothing, without error") {
  Groups g;
  g.set_in_flight_limit(3);
  for (int i = 0; i < 5; ++i) g.Push("g" + std::to_string(i), "m" + std::to_string(i), kT0);
  auto got = Receive(g, kT0, 10);
  CHECK(got.size() == 3);
  CHECK(g.in_flight() == 3);
  CHECK(Receive(g, kT0, 10).empty());
  REQUIRE(g.Delete(got[0].receipt, kT0) == FifoOutcome::kOk);
  CHECK(Receive(g, kT0, 10).size() == 1);
  // Lapses free room too.
  CHECK(Receive(g, kT0 + absl::Seconds(30), 10).size() == 3);
  g.Clear();
  CHECK(g.in_flight() == 0);
}

TEST_CASE("FifoGroups: many groups are all served") {
  Groups g;
  for (int i = 0; i < 10000; ++i) g.Push("g" + std::to_string(i), std::to_string(i), kT0);
  size_t total = 0;
  for (;;) {
    auto got = Receive(g, kT0, 10);
    if (got.empty()) break;
    total += got.size();
    for (auto& x : got) REQUIRE(g.Delete(x.receipt, kT0) == FifoOutcome::kOk);
  }
  CHECK(total == 10000);
  CHECK(g.size() == 0);
}

TEST_CASE("FifoGroups: ScanCutoff is the scan-th oldest stored message, whatever comes and goes") {
  // Random pushes to 13 groups, receives, deletes, lapses and retention removals, against a
  // sorted list of every stored sequence number: the cutoff is its scan-th entry (or none).
  Groups g;
  constexpr size_t kScan = 50;
  std::mt19937 rng(7);
  std::set<uint64_t> stored;
  std::vector<Got> in_flight;
  absl::Time now = kT0;
  for (int step = 0; step < 4000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 5) {
      stored.insert(g.Push("g" + std::to_string(rng() % 13), "x", now));
    } else if (op < 7) {
      for (Got& got : Receive(g, now, 1 + static_cast<int>(rng() % 10), absl::Seconds(5))) {
        in_flight.push_back(got);
      }
    } else if (op < 9 && !in_flight.empty()) {
      const size_t i = rng() % in_flight.size();
      if (g.Delete(in_flight[i].receipt, now) == FifoOutcome::kOk) {
        stored.erase(in_flight[i].receipt.seq);
      }
      in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      now += absl::Seconds(1);  // lets some in-flight messages lapse
      if (rng() % 50 == 0) {
        // Retention: the oldest few go.
        const uint64_t upto = stored.empty() ? 0 : *stored.begin() + rng() % 20;
        g.RemoveIf([&](const Groups::Node& n) { return n.seq <= upto; });
        stored.erase(stored.begin(), stored.upper_bound(upto));
      }
    }
    const uint64_t want =
        stored.size() <= kScan ? ~uint64_t{0} : *std::next(stored.begin(), kScan - 1);
    // The cheap bound is the last answer: never past the true cutoff.
    REQUIRE(g.ScanCutoffBound(kScan) <= want);
    REQUIRE(g.ScanCutoff(kScan) == want);
  }
}
}  // namespace
}  // namespace courier::queue_internal
