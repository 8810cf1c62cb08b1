// The deduplication window on its own, to the exact instant.
#include <atomic>
#include <barrier>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "queue/dedup_window.h"
#include "queue/progress_parking.h"
#include "queue/stress_threads.h"

namespace courier::queue_internal {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);

TEST_CASE("DedupWindow: a key is a duplicate until exactly 5 minutes after its admission") {
  DedupWindow<int> w;
  int made = 0;
  auto make = [&] { return ++made; };
  CHECK(w.Admit("k", kT0, make) == std::pair<int, bool>{1, true});
  CHECK(w.Admit("k", kT0 + absl::Minutes(5) - absl::Milliseconds(1), make) ==
        std::pair<int, bool>{1, false});
  CHECK(w.Find("k", kT0 + absl::Minutes(5) - absl::Milliseconds(1)) == 1);
  CHECK_FALSE(w.Find("k", kT0 + absl::Minutes(5)).has_value());
  CHECK(w.Admit("k", kT0 + absl::Minutes(5), make) == std::pair<int, bool>{2, true});
  // The window restarts from the new admission, not from the duplicate.
  CHECK(w.Admit("k", kT0 + absl::Minutes(10) - absl::Milliseconds(1), make)->second == false);
  CHECK(w.Admit("k", kT0 + absl::Minutes(10), make)->second == true);
  CHECK(made == 3);
}

TEST_CASE("DedupWindow: duplicates do not extend the window") {
  DedupWindow<int> w;
  CHECK(w.Admit("k", kT0, [] { return 1; })->second);
  CHECK_FALSE(w.Admit("k", kT0 + absl::Minutes(4), [] { return 2; })->second);
  CHECK(w.Admit("k", kT0 + absl::Minutes(5), [] { return 3; })->first == 3);
}

TEST_CASE("DedupWindow: keys are independent and expired ones are dropped") {
  DedupWindow<int> w;
  for (int i = 0; i < 1000; ++i) w.Admit(std::to_string(i), kT0, [&] { return i; });
  CHECK(w.size() == 1000);
  CHECK(w.Admit("500", kT0 + absl::Seconds(1), [] { return -1; })->first == 500);
  // Admissions after the window drop old entries shard by shard.
  for (int i = 0; i < 1000; ++i) {
    w.Admit("new" + std::to_string(i), kT0 + absl::Minutes(5), [&] { return i; });
  }
  CHECK(w.size() == 1000);
  w.Clear();
  CHECK(w.size() == 0);
}

TEST_CASE("DedupWindow: dropping expired keys keeps every live key findable") {
  // Admissions one millisecond apart; an admission more than half a window after the table
  // began folds it into a new one, keeping only the keys still inside the window: each live key
  // must still be found, each dropped one not, and half a window on, only the later admissions
  // are remembered.
  DedupWindow<int> w(absl::Seconds(60));
  constexpr int kKeys = 20000;
  for (int i = 0; i < kKeys; ++i) {
    w.Admit("key-" + std::to_string(i), kT0 + absl::Milliseconds(i), [&] { return i; });
  }
  CHECK(w.size() == kKeys);
  // Keys 0 to kKeys / 2 - 1 are past the window at `later`, the others are not.
  const absl::Time later = kT0 + absl::Seconds(60) + absl::Milliseconds(kKeys / 2 - 1);
  for (int i = 0; i < 1000; ++i) w.Admit("new-" + std::to_string(i), later, [] { return -1; });
  CHECK(w.size() == kKeys / 2 + 1000);
  int found = 0;
  for (int i = kKeys / 2; i < kKeys; ++i) {
    if (w.Find("key-" + std::to_string(i), later) == i) ++found;
  }
  CHECK(found == kKeys / 2);
  for (int i = 0; i < kKeys / 2; ++i) {
    // An expired key is new again.
    if (!w.Admit("key-" + std::to_string(i), later, [] { return -2; })->second) FAIL(i);
  }
  // Half a window on, every first admission has left the window: only the later ones are kept.
  const absl::Time last = later + absl::Seconds(30);
  for (int i = 0; i < 1000; ++i) w.Admit("last-" + std::to_string(i), last, [] { return -3; });
  CHECK(w.size() == 1000 + kKeys / 2 + 1000);
  CHECK(w.Find("key-0", last) == -2);
  CHECK_FALSE(w.Find("key-" + std::to_string(kKeys - 1), last).has_value());
}

TEST_CASE("DedupWindow: a custom window") {
  DedupWindow<int> w(absl::Seconds(1));
  CHECK(w.Admit("k", kT0, [] { return 1; })->second);
  CHECK_FALSE(w.Admit("k", kT0 + absl::Milliseconds(999), [] { return 2; })->second);
  CHECK(w.Admit("k", kT0 + absl::Seconds(1), [] { return 3; })->second);
}

TEST_CASE("DedupWindow: concurrent admissions of one key admit exactly one", "[stress]") {
  DedupWindow<int> w;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        auto [v, fresh] = *w.Admit("k" + std::to_string(i), kT0, [&] { return t; });
        if (fresh) admitted.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(admitted.load() == 2000);
}

TEST_CASE("DedupWindow: racing admissions across tables begun and folded admit each key once",
          "[stress]") {
  // Four threads admit the same keys, round after round (60 times COURIER_STRESS_SCALE), a
  // third of a window apart, so that tables begin (full, or half a window old) and are folded
  // while admissions race; half the keys share a few hashes, so that their probes are long and
  // cross one another. In each round every key must be fresh for exactly one thread, and every
  // other thread must get that one's value; a key of the round before is still a duplicate, one
  // of three rounds before is new again (checked after the round, by one thread).
  const absl::Duration window = absl::Seconds(3);
  DedupWindow<uint64_t> w(window);
  constexpr int kThreads = 4, kKeys = 300;
  const int rounds = 60 * testing::StressScale();
  constexpr int kStrides[kThreads] = {7, 11, 13, 17};  // prime to kKeys: every key, in turn
  auto key = [](int round, int i) { return std::to_string(round) + "/" + std::to_string(i); };
  auto hash = [&](const std::string& k, int i) {
    return i % 2 == 0 ? DedupWindow<uint64_t>::Hash(k) : uint64_t{0x3000000000000000} | (i % 5);
  };
  std::vector<std::atomic<int>> fresh(rounds * kKeys);
  std::vector<std::atomic<uint64_t>> values(rounds * kKeys);
  std::vector<std::atomic<uint64_t>> returned(rounds * kKeys * kThreads);  // by (key, thread)
  std::atomic<int> wrong_value{0}, wrong_later{0};
  std::barrier round_done(kThreads, [&]() noexcept {});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) {
        const absl::Time now = kT0 + window / 3 * r;
        for (int n = 0; n < kKeys; ++n) {
          const int i = (n * kStrides[t]) % kKeys;  // each thread in its own order
          const std::string k = key(r, i);
          const uint64_t mine = uint64_t(t) << 32 | uint64_t(r * kKeys + i);
          auto got = w.Admit(k, hash(k, i), now, [&] { return mine; });
          if (!got.has_value()) {
            wrong_value.fetch_add(1);
            continue;
          }
          const size_t at = static_cast<size_t>(r * kKeys + i);
          returned[at * kThreads + t].store(got->first);
          if (got->second) {
            fresh[at].fetch_add(1);
            values[at].store(mine);
          }
        }
        round_done.arrive_and_wait();
        if (t == 0) {
          for (int i = 0; i < kKeys; ++i) {
            const size_t at = static_cast<size_t>(r * kKeys + i);
            auto find = [&](int round) {
              const std::string k = key(round, i);
              return w.Find(k, hash(k, i), now);
            };
            auto again = find(r);
            if (!again.has_value() || *again != values[at].load()) wrong_value.fetch_add(1);
            for (int u = 0; u < kThreads; ++u) {
              if (returned[at * kThreads + u].load() != values[at].load()) wrong_value.fetch_add(1);
            }
            if (r >= 1 && !find(r - 1).has_value()) wrong_later.fetch_add(1);
            if (r >= 3 && find(r - 3).has_value()) wrong_later.fetch_add(1);
          }
        }
        round_done.arrive_and_wait();
      }
    });
  }
  for (auto& th : threads) th.join();
  int not_once = 0;
  for (auto& f : fresh) not_once += f.load() != 1;
  CHECK(not_once == 0);
  CHECK(wrong_value.load() == 0);
  CHECK(wrong_later.load() == 0);
  // Only the last rounds are remembered.
  CHECK(w.size() <= static_cast<size_t>(6 * kKeys));
}

TEST_CASE(
    "DedupWindow: an admission stopped before linking into a generation a newer one "
    "replaced meets the key there") {
  // The race the seals are for: one admission of "k" has claimed its room in the first table
  // and stops before linking it; meanwhile a second generation begins (half a window later),
  // whose admission folds the first table into its own, sealing every slot, and another
  // admission links "k" in the second. The stopped one must then fail to link, start again in
  // the second generation, and return the other's value: "k" is fresh once.
  const absl::Duration window = absl::Seconds(10);
  DedupWindow<int> w(window);
  testing::ParkingHook hook;
  hook.Arm(ProgressPoint::kDeduplicate);
  std::optional<std::pair<int, bool>> stopped;
  std::thread first([&] { stopped = w.Admit("k", kT0, [] { return 1; }); });
  REQUIRE(hook.WaitParked(std::chrono::steady_clock::now() + std::chrono::seconds(60)));
  const absl::Time later = kT0 + window / 2;
  CHECK(w.Admit("other", later, [] { return 9; })->second);  // begins the second generation
  CHECK(w.Admit("k", later, [] { return 2; }) == std::pair<int, bool>{2, true});
  hook.Release();
  first.join();
  CHECK(stopped == std::pair<int, bool>{2, false});
  CHECK(w.Find("k", later) == 2);
  CHECK(w.Admit("k", kT0 + window, [] { return 3; }) == std::pair<int, bool>{2, false});
  CHECK(w.Admit("k", later + window, [] { return 4; }) == std::pair<int, bool>{4, true});
}

TEST_CASE("DedupWindow: a Clear stopped after installing its empty table survives its fold") {
  // Admissions fill the empty table a Clear has just installed, and one of them begins a
  // successor and folds the Clear's table into it (its table pointer then null) before the
  // Clear goes on to use it. The Clear must not read the table through that pointer.
  DedupWindow<int> w(absl::Seconds(10));
  for (int i = 0; i < 400; ++i) (void)w.Admit("before-" + std::to_string(i), kT0, [] { return 1; });
  testing::ParkingHook hook;
  hook.Arm(ProgressPoint::kClearWindow);
  std::thread clear([&] { w.Clear(); });
  REQUIRE(hook.WaitParked(std::chrono::steady_clock::now() + std::chrono::seconds(60)));
  int fresh = 0;
  for (int i = 0; i < 400; ++i) {
    fresh += w.Admit("during-" + std::to_string(i), kT0, [] { return 2; })->second;
  }
  CHECK(fresh == 400);
  hook.Release();
  clear.join();
  CHECK(w.Admit("after", kT0, [] { return 3; }) == std::pair<int, bool>{3, true});
  CHECK(w.Admit("after", kT0, [] { return 4; }) == std::pair<int, bool>{3, false});
  CHECK_FALSE(w.Find("before-0", kT0).has_value());  // forgotten, whichever shard it is in
}

TEST_CASE("DedupWindow: Clear while admissions and folds run forgets what it ran after",
          "[stress]") {
  // Three threads admit keys (tables fill and are folded as they go), a fourth clears the
  // window again and again. Every admission returns a value made for its key; once they are
  // done, a last Clear forgets everything, and the blocks of records go back.
  DedupWindow<uint64_t> w(absl::Seconds(10));
  constexpr int kThreads = 3, kKeys = 20000;
  std::atomic<bool> done{false};
  std::atomic<int> foreign{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kKeys; ++i) {
        const int k = i % 5000;  // each key again and again, a window apart or not
        const absl::Time now = kT0 + absl::Milliseconds(i);
        auto got = w.Admit(std::to_string(k), now, [&] { return uint64_t(t) << 32 | uint64_t(k); });
        if (!got.has_value() || (got->first & 0xffffffffu) != uint64_t(k)) foreign.fetch_add(1);
      }
    });
  }
  std::thread clearer([&] {
    while (!done.load()) {
      w.Clear();
      std::this_thread::yield();
    }
  });
  for (auto& th : threads) th.join();
  done = true;
  clearer.join();
  CHECK(foreign.load() == 0);
  w.Clear();
  CHECK(w.size() == 0);
  CHECK(w.Admit("0", kT0 + absl::Milliseconds(kKeys), [] { return uint64_t{7}; }) ==
        std::pair<uint64_t, bool>{7, true});
  // A send's tidying lets the old blocks go once their grace has passed. The grace is two moves
  // of the epoch, which a send tries one time in 64 and which other threads' guards (of tests
  // run before, under a sanitizer's scheduling) can hold back: Collect moves it on here.
  for (int round = 0; round < 20 && w.blocks() > DedupWindow<uint64_t>::kShards; ++round) {
    Epochs::Collect();
    for (int i = 0; i < 100; ++i) {
      (void)w.Admit("after-" + std::to_string(round * 100 + i), kT0 + absl::Milliseconds(kKeys),
                    [] { return uint64_t{1}; });
    }
  }
  CHECK(w.blocks() <= DedupWindow<uint64_t>::kShards);
}

TEST_CASE("DedupWindow: keys with the same hash stay distinct") {
  // The tables keep 24 bits of the hash; keys whose whole hash is the same must still be told
  // apart by their text, through admission, duplicates and expiry.
  DedupWindow<int> w(absl::Seconds(10));
  constexpr uint64_t kSame = 0x5a5a5a5a12345678ULL;
  constexpr int kKeys = 200;
  auto key = [](int i) {
    return i % 3 == 0 ? "id-" + std::to_string(i)
                      : "a-deduplication-id-longer-than-inline-" + std::to_string(i);
  };
  for (int i = 0; i < kKeys; ++i) {
    REQUIRE(w.Admit(key(i), kSame, kT0 + absl::Milliseconds(i), [&] { return i; }) ==
            std::pair<int, bool>{i, true});
  }
  for (int i = 0; i < kKeys; ++i) {
    REQUIRE(w.Admit(key(i), kSame, kT0 + absl::Seconds(1), [] { return -1; }) ==
            std::pair<int, bool>{i, false});
  }
  // Other keys whose hashes share only the low 32 bits (so the 24 the tables keep, and the shard).
  for (int i = 0; i < kKeys; ++i) {
    const uint64_t other = (uint64_t{0x5a5a5a5a} ^ static_cast<uint64_t>(i + 1)) << 32 | 0x12345678;
    REQUIRE(w.Admit(key(i) + "#2", other, kT0 + absl::Seconds(1), [&] { return 1000 + i; }) ==
            std::pair<int, bool>{1000 + i, true});
  }
  // The first half of the colliding keys expire at exactly 10 s after their admission; the
  // rest are still found, each with its own value.
  const absl::Time later = kT0 + absl::Seconds(10) + absl::Milliseconds(kKeys / 2 - 1);
  for (int i = kKeys / 2; i < kKeys; ++i) {
    REQUIRE(w.Admit(key(i), kSame, later, [] { return -1; }) == std::pair<int, bool>{i, false});
  }
  for (int i = 0; i < kKeys / 2; ++i) {
    REQUIRE(w.Admit(key(i), kSame, later, [&] { return 2000 + i; }) ==
            std::pair<int, bool>{2000 + i, true});
  }
  for (int i = 0; i < kKeys; ++i) {
    const int want = i < kKeys / 2 ? 2000 + i : i;
    REQUIRE(w.Admit(key(i), kSame, later, [] { return -1; }) == std::pair<int, bool>{want, false});
    const uint64_t other = (uint64_t{0x5a5a5a5a} ^ static_cast<uint64_t>(i + 1)) << 32 | 0x12345678;
    REQUIRE(w.Admit(key(i) + "#2", other, later, [] { return -1; }) ==
            std::pair<int, bool>{1000 + i, false});
  }
}

TEST_CASE("DedupWindow: a moving window gives its memory back and expires each key exactly") {
  // Ten windows' worth of admissions 50 us apart, keys of 1 to 257 characters (records of every
  // length, so that they cross the ends of blocks and of tables' ranges, and tables are folded
  // both when full and when half a window old): every key is a duplicate until exactly one
  // window after its admission, new from then on.
  DedupWindow<uint64_t> w(absl::Seconds(1));
  constexpr int kKeys = 200000;
  auto key = [](int i) {
    std::string k = std::to_string(i) + ":";
    k.resize(1 + (static_cast<size_t>(i) * 7919) % 257, 'x');
    return k.size() < std::to_string(i).size() + 1 ? std::to_string(i) + ":" : k;
  };
  const absl::Duration step = absl::Microseconds(50);  // 20,000 admissions per window
  for (int i = 0; i < kKeys; ++i) {
    const absl::Time t = kT0 + step * i;
    REQUIRE(w.Admit(key(i), t, [&] { return uint64_t(i); }) ==
            std::pair<uint64_t, bool>{uint64_t(i), true});
    if (i >= 20000 && i % 101 == 0) {
      // Key i - 20000 was admitted exactly one window ago: new again. Key i - 19999 was
      // admitted 50 us later: still a duplicate.
      REQUIRE(w.Admit(key(i - 19999), t, [] { return uint64_t{0}; }) ==
              std::pair<uint64_t, bool>{uint64_t(i - 19999), false});
      REQUIRE_FALSE(w.Find(key(i - 20000), t).has_value());
    }
  }
  // At most about one and a half windows are remembered: a table is folded (keeping what is
  // inside the window) once it is half a window old.
  CHECK(w.size() < 20000 * 3 / 2 + 20000 / 101 + 2000);
  // And the blocks of records: the run fills some 60 of 2 MiB (15 a shard), a window's worth and
  // the block being filled stay (3 a shard), the rest went back.
  CHECK(w.blocks() <= 4 * DedupWindow<uint64_t>::kShards);
}

TEST_CASE("DedupWindow: a window of many blocks expires in order; long keys work throughout") {
  // Enough keys for every shard to fill several blocks of admissions (32,768 each), half of
  // them longer than the inline capacity, admitted a microsecond apart.
  DedupWindow<int> w;
  constexpr int kKeys = 1 << 20;
  auto key = [](int i) {
    return i % 2 == 0 ? "k" + std::to_string(i)
                      : "a-rather-long-deduplication-id-" + std::to_string(i);
  };
  for (int i = 0; i < kKeys; ++i) {
    REQUIRE(w.Admit(key(i), kT0 + absl::Microseconds(i), [&] { return i; })->second);
  }
  CHECK(w.size() == static_cast<size_t>(kKeys));
  for (int i : {0, 1, kKeys / 2, kKeys - 1}) CHECK(w.Find(key(i), kT0 + absl::Seconds(2)) == i);
  // Exactly five minutes after the middle key: it and the ones before have expired, the later
  // ones have not.
  const absl::Time later = kT0 + absl::Minutes(5) + absl::Microseconds(kKeys / 2);
  for (int i = 0; i <= kKeys / 2; i += 997) {
    CHECK(w.Admit(key(i), later, [] { return -1; }) == std::pair<int, bool>{-1, true});
  }
  CHECK(w.Admit(key(kKeys / 2), later, [] { return -1; }) == std::pair<int, bool>{-1, true});
  CHECK(w.Admit(key(kKeys / 2), later, [] { return -2; }) == std::pair<int, bool>{-1, false});
  for (int i = kKeys / 2 + 1; i < kKeys; i += 997) {
    CHECK(w.Admit(key(i), later, [] { return -1; }) == std::pair<int, bool>{i, false});
  }
  // The admissions that left the window were dropped.
  CHECK(w.size() < static_cast<size_t>(kKeys / 2 + 2000));
  w.Clear();
  CHECK(w.size() == 0);
  CHECK(w.Admit(key(1), later, [] { return 7; })->first == 7);
}

}  // namespace
}  // namespace courier::queue_internal
