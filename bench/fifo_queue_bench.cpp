// FIFO queue lifecycle throughput: SendMessage x10 -> ReceiveMessage(10) -> DeleteMessageBatch,
// with 1, 100 and 10,000 message groups, on 1 thread and on 2 producers + 2 consumers, beside
// the baselines (moodycamel::ConcurrentQueue enqueue+dequeue, a mutex+deque) in the same run.
// Items are messages (one lifecycle each).
//
//   bench/fifo_queue_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "courier/fifo_queue.h"
#include "courier/hub.h"

namespace {

const std::string kBody(100, 'x');

struct Shared {
  std::unique_ptr<courier::Hub> hub;
  std::shared_ptr<courier::FifoQueue> queue;
  std::vector<std::string> groups;
  std::atomic<uint64_t> next_id{0};
  std::atomic<int64_t> backlog{0};
};
Shared shared;

void Setup(int groups) {
  shared.hub = std::make_unique<courier::Hub>(courier::Environment::Default());
  shared.queue = courier::FifoQueue::Create(*shared.hub, "bench.fifo").value();
  shared.groups.clear();
  for (int i = 0; i < groups; ++i) shared.groups.push_back("group-" + std::to_string(i));
  shared.next_id = 0;
  shared.backlog = 0;
}

void Teardown() {
  shared.queue.reset();
  shared.hub.reset();
}

void Send(int n) {
  for (int i = 0; i < n; ++i) {
    const uint64_t id = shared.next_id.fetch_add(1, std::memory_order_relaxed);
    auto r =
        shared.queue->SendMessage({.body = kBody,
                                   .message_group_id = shared.groups[id % shared.groups.size()],
                                   .message_deduplication_id = std::to_string(id)});
    if (!r.ok()) std::abort();
  }
}

size_t ReceiveAndDelete() {
  auto got = shared.queue->ReceiveMessage({.max_number_of_messages = 10});
  if (!got.ok()) std::abort();
  if (got->empty()) return 0;
  std::vector<courier::FifoQueue::HandleBatchEntry> entries;
  entries.reserve(got->size());
  static const char* kIds[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  for (size_t i = 0; i < got->size(); ++i) {
    entries.push_back({kIds[i], std::move((*got)[i].receipt_handle), {}});
  }
  auto del = shared.queue->DeleteMessageBatch(entries);
  if (!del.ok() || !del->failed.empty()) std::abort();
  return got->size();
}

// One thread: send 10, receive up to 10, delete them.
void BM_FifoLifecycle(benchmark::State& state) {
  Setup(static_cast<int>(state.range(0)));
  size_t done = 0;
  for (auto _ : state) {
    Send(10);
    done += ReceiveAndDelete();
  }
  // Drain what a 1-group receive could not take (none in steady state).
  state.SetItemsProcessed(static_cast<int64_t>(done));
  Teardown();
}
BENCHMARK(BM_FifoLifecycle)->Arg(1)->Arg(100)->Arg(10000)->ArgName("groups");

// 2 producers + 2 consumers; producers hold back when 100,000 messages are queued.
void BM_FifoLifecycle2P2C(benchmark::State& state) {
  if (state.thread_index() == 0) Setup(static_cast<int>(state.range(0)));
  const bool producer = state.thread_index() % 2 == 0;
  size_t done = 0;
  for (auto _ : state) {
    if (producer) {
      if (shared.backlog.load(std::memory_order_relaxed) > 100000) {
        std::this_thread::yield();
        continue;
      }
      Send(10);
      shared.backlog.fetch_add(10, std::memory_order_relaxed);
    } else {
      const size_t n = ReceiveAndDelete();
      shared.backlog.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
      done += n;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(done));
  if (state.thread_index() == 0) Teardown();
}
BENCHMARK(BM_FifoLifecycle2P2C)
    ->Arg(1)
    ->Arg(100)
    ->Arg(10000)
    ->ArgName("groups")
    ->Threads(4)
    ->UseRealTime();

// ---- Baselines: the same 100-byte messages through a plain queue ----

moodycamel::ConcurrentQueue<std::string>* moody = nullptr;

void BM_MoodycamelEnqueueDequeue(benchmark::State& state) {
  if (state.thread_index() == 0) moody = new moodycamel::ConcurrentQueue<std::string>();
  const bool producer = state.threads() == 1 || state.thread_index() % 2 == 0;
  const bool consumer = state.threads() == 1 || state.thread_index() % 2 == 1;
  size_t done = 0;
  std::string out;
  for (auto _ : state) {
    if (producer) {
      for (int i = 0; i < 10; ++i) moody->enqueue(kBody);
    }
    if (consumer) {
      for (int i = 0; i < 10; ++i) done += moody->try_dequeue(out) ? 1 : 0;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(done));
  if (state.thread_index() == 0) {
    delete moody;
    moody = nullptr;
  }
}
BENCHMARK(BM_MoodycamelEnqueueDequeue);
BENCHMARK(BM_MoodycamelEnqueueDequeue)->Threads(4)->UseRealTime();

std::mutex deque_mu;
std::deque<std::string> deque_queue;

void BM_MutexDeque(benchmark::State& state) {
  const bool producer = state.threads() == 1 || state.thread_index() % 2 == 0;
  const bool consumer = state.threads() == 1 || state.thread_index() % 2 == 1;
  size_t done = 0;
  std::string out;
  for (auto _ : state) {
    if (producer) {
      for (int i = 0; i < 10; ++i) {
        std::lock_guard lock(deque_mu);
        deque_queue.push_back(kBody);
      }
    }
    if (consumer) {
      for (int i = 0; i < 10; ++i) {
        std::lock_guard lock(deque_mu);
        if (!deque_queue.empty()) {
          out = std::move(deque_queue.front());
          deque_queue.pop_front();
          ++done;
        }
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(done));
  if (state.thread_index() == 0) {
    std::lock_guard lock(deque_mu);
    deque_queue.clear();
  }
}
BENCHMARK(BM_MutexDeque);
BENCHMARK(BM_MutexDeque)->Threads(4)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
