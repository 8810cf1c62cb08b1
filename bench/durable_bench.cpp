// Durable lifecycles per second: a SendMessage, a ReceiveMessage and a DeleteMessage, each
// acknowledged, by 1, 10 and 100 concurrent callers (each on its own queue), on SqliteStorage
// beside the same work on MemoryStorage; and the floor, a raw SQLite loop that commits the same
// three records per lifecycle, as many lifecycles per commit as there are callers, in the same
// binary. Then the time to reopen a file of stored messages and recover them.
//
// The files go to $COURIER_BENCH_DIR (default: the system's temporary directory): point it at
// the disk you mean to measure.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "courier/environment.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqlite_storage.h"
#include "courier/sqs.h"

namespace {

namespace fs = std::filesystem;

constexpr int kMaxCallers = 100;
const std::string kBody(256, 'b');

fs::path BenchDir() {
  const char* dir = std::getenv("COURIER_BENCH_DIR");
  fs::path base = dir != nullptr ? fs::path(dir) : fs::temp_directory_path();
  std::string pattern = (base / "courier-durable-XXXXXX").string();
  return mkdtemp(pattern.data());
}

// One hub and a queue per caller, on the storage the benchmark's argument names.
struct World {
  fs::path dir;
  std::unique_ptr<courier::Hub> hub;
  std::vector<std::shared_ptr<courier::Queue>> queues;
};
std::unique_ptr<World> world;

void Setup(bool durable) {
  world = std::make_unique<World>();
  courier::Environment env = courier::Environment::Default();
  if (durable) {
    world->dir = BenchDir();
    env.storage = courier::SqliteStorage::Open((world->dir / "hub.db").string()).value();
  }
  world->hub = std::make_unique<courier::Hub>(env);
  for (int i = 0; i < kMaxCallers; ++i) {
    world->queues.push_back(courier::Sqs(*world->hub).CreateQueue(fmt::format("q{}", i)).value());
  }
}

void TearDown() {
  const fs::path dir = world->dir;
  world.reset();
  if (!dir.empty()) fs::remove_all(dir);
}

// Arg 0: MemoryStorage; 1: SqliteStorage (every call waits for its commit).
void BM_Lifecycle(benchmark::State& state) {
  if (state.thread_index() == 0) Setup(state.range(0) == 1);
  courier::Queue* q = nullptr;
  for (auto _ : state) {
    if (q == nullptr) q = world->queues[static_cast<size_t>(state.thread_index())].get();
    if (!q->SendMessage({.body = kBody}).ok()) {
      state.SkipWithError("send failed");
      break;
    }
    auto got = q->ReceiveMessage({.max_number_of_messages = 1});
    if (!got.ok() || got->size() != 1 || !q->DeleteMessage((*got)[0].receipt_handle).ok()) {
      state.SkipWithError("receive or delete failed");
      break;
    }
  }
  state.counters["lifecycles_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) TearDown();
}
BENCHMARK(BM_Lifecycle)
    ->ArgName("durable")
    ->Arg(0)
    ->Arg(1)
    ->Threads(1)
    ->Threads(10)
    ->Threads(100)
    ->UseRealTime();

// The floor: one thread, one transaction per iteration holding `lifecycles` lifecycles' three
// records (as big as courier's), in a WAL file with synchronous=FULL.
void BM_RawSqlite(benchmark::State& state) {
  const fs::path dir = BenchDir();
  sqlite3* db = nullptr;
  sqlite3_open((dir / "raw.db").string().c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE records (seq "
               "INTEGER PRIMARY KEY, log TEXT NOT NULL, body BLOB NOT NULL)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO records (log, body) VALUES ('sqs', ?1)", -1, &insert,
                     nullptr);
  const std::string stored = kBody + std::string(120, 's');  // body and what a record adds
  const std::string receipt(90, 'r'), removed(60, 'd');
  const int64_t lifecycles = state.range(0);
  auto put = [&](const std::string& record) {
    sqlite3_bind_blob(insert, 1, record.data(), static_cast<int>(record.size()), SQLITE_STATIC);
    sqlite3_step(insert);
    sqlite3_reset(insert);
  };
  for (auto _ : state) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (int64_t i = 0; i < lifecycles; ++i) {
      put(stored);
      put(receipt);
      put(removed);
    }
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      state.SkipWithError("commit failed");
      break;
    }
  }
  state.counters["lifecycles_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * lifecycles), benchmark::Counter::kIsRate);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  fs::remove_all(dir);
}
BENCHMARK(BM_RawSqlite)->ArgName("lifecycles_per_commit")->Arg(1)->Arg(10)->Arg(100)->UseRealTime();

// The ceiling of any design in which each acknowledged call blocks its caller's thread until
// another thread's commit: `threads` threads that only sleep on one word and are woken, all at
// once, by a leader that bumps it as soon as all of them sleep (no commit, no work). A durable
// lifecycle is three such waits, so this many wake-ups per second, divided by three, bounds
// lifecycles per second with that many blocking callers on this machine.
void BM_WakeCeiling(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::atomic<uint32_t> round{0};
  std::atomic<int> asleep{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&] {
      for (uint32_t seen = 0; !stop.load(std::memory_order_relaxed);) {
        seen = round.load(std::memory_order_acquire);
        asleep.fetch_add(1, std::memory_order_acq_rel);
        round.wait(seen, std::memory_order_acquire);
      }
    });
  }
  for (auto _ : state) {
    while (asleep.load(std::memory_order_acquire) < n) std::this_thread::yield();
    asleep.store(0, std::memory_order_relaxed);
    round.fetch_add(1, std::memory_order_acq_rel);
    round.notify_all();
  }
  while (asleep.load(std::memory_order_acquire) < n) std::this_thread::yield();
  stop = true;
  round.fetch_add(1, std::memory_order_acq_rel);
  round.notify_all();
  for (std::thread& t : threads) t.join();
  state.counters["wakeups_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WakeCeiling)->ArgName("threads")->Arg(10)->Arg(100)->UseRealTime();

// Reopening: a file holding `messages` stored messages (sent in batches of 10 by 10 threads),
// then Open + Recover timed once. `sse`: the queue's SqsManagedSseEnabled (on by default, as in
// SQS), so that its records are sealed and recovery opens each of them.
void BM_Reopen(benchmark::State& state) {
  const fs::path dir = BenchDir();
  const std::string file = (dir / "hub.db").string();
  const int64_t messages = state.range(0);
  const bool sse = state.range(1) != 0;
  {
    courier::Environment env = courier::Environment::Default();
    env.storage = courier::SqliteStorage::Open(file).value();
    courier::Hub hub(env);
    auto q = courier::Sqs(hub)
                 .CreateQueue("stored", {{"SqsManagedSseEnabled", sse ? "true" : "false"}})
                 .value();
    std::vector<std::thread> threads;
    for (int t = 0; t < 10; ++t) {
      threads.emplace_back([&] {
        for (int64_t sent = 0; sent < messages / 10; sent += 10) {
          std::vector<courier::SendBatchEntry> batch(10);
          for (size_t i = 0; i < batch.size(); ++i) {
            batch[i] = {.id = std::to_string(i), .request = {.body = kBody}};
          }
          q->SendMessageBatch(std::move(batch)).IgnoreError();
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  for (auto _ : state) {
    courier::Environment env = courier::Environment::Default();
    env.storage = courier::SqliteStorage::Open(file).value();
    courier::Hub hub(env);
    if (!hub.Recover().ok()) state.SkipWithError("recover failed");
    auto attributes = courier::Sqs(hub).GetQueue("stored").value()->GetQueueAttributes(
        {"ApproximateNumberOfMessages"});
    state.counters["recovered"] =
        static_cast<double>(std::stoll(attributes->at("ApproximateNumberOfMessages")));
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_Reopen)
    ->ArgNames({"messages", "sse"})
    ->ArgsProduct({{100000, 1000000}, {0, 1}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
