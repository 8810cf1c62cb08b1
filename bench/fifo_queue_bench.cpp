// FIFO queue lifecycle throughput: SendMessage x10 -> ReceiveMessage(10) -> DeleteMessageBatch,
// with 1, 100 and 10,000 message groups, on 1 thread, on 2 producers + 2 consumers and (100
// groups) on 8 + 8, beside the standard queue (courier::Queue, no groups) and the baselines
// (moodycamel::ConcurrentQueue enqueue+dequeue, a mutex+deque) in the same run. Items are messages
// (one lifecycle each). As in queue_bench, a lifecycle is one where the caller does not ask for the
// body's MD5 (SendMessageNoMd5, md5_of_body = false); the *Md5 cases compute MD5OfMessageBody on
// every send. BM_FifoMemory1M queues 1 million messages in 100 groups and reports the peak RSS,
// the RSS once they are all received and deleted (when a receive finds the queue drained, the
// slab's pages go back), and once the deduplication window has let go of their ids (run it
// alone, with --benchmark_filter=Memory, for figures that hold nothing else).
//
//   bench/fifo_queue_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <concurrentqueue/concurrentqueue.h>
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "rss.h"

namespace {

const std::string kBody(100, 'x');

struct Shared {
  std::unique_ptr<courier::Hub> hub;
  std::shared_ptr<courier::FifoQueue> queue;
  std::vector<std::string> groups;
  std::atomic<uint64_t> next_id{0};
};
Shared shared;

void Setup(int groups) {
  shared.hub = std::make_unique<courier::Hub>(courier::Environment::Default());
  shared.queue = courier::FifoQueue::Create(*shared.hub, "bench.fifo").value();
  shared.groups.clear();
  for (int i = 0; i < groups; ++i) shared.groups.push_back("group-" + std::to_string(i));
  shared.next_id = 0;
}

void Teardown() {
  shared.queue.reset();
  shared.hub.reset();
}

// `md5`: SendMessage, which returns MD5OfMessageBody; else SendMessageNoMd5.
void Send(int n, bool md5) {
  for (int i = 0; i < n; ++i) {
    const uint64_t id = shared.next_id.fetch_add(1, std::memory_order_relaxed);
    courier::SendMessageRequest request{
        .body = kBody,
        .message_group_id = shared.groups[id % shared.groups.size()],
        .message_deduplication_id = std::to_string(id)};
    auto r = md5 ? shared.queue->SendMessage(std::move(request))
                 : shared.queue->SendMessageNoMd5(std::move(request));
    if (!r.ok()) std::abort();
  }
}

// A consumer receives into one vector and builds its delete batch in another, both reused from
// one receive to the next (as a bulk dequeue fills one array), for every queue alike.
struct Consumer {
  std::vector<courier::Message> got;
  std::vector<courier::Queue::HandleBatchEntry> entries;
};

// Receives up to 10 and deletes them with one DeleteMessageBatch; returns how many.
template <typename Q>
size_t ReceiveAndDelete(Q& queue, Consumer& c, bool md5) {
  if (!queue.ReceiveMessage({.max_number_of_messages = 10, .md5_of_body = md5}, c.got).ok()) {
    std::abort();
  }
  if (c.got.empty()) return 0;
  c.entries.resize(c.got.size());
  for (size_t i = 0; i < c.got.size(); ++i) {
    c.entries[i].id.assign(1, static_cast<char>('0' + i));
    c.entries[i].receipt_handle = c.got[i].receipt_handle;
  }
  auto del = queue.DeleteMessageBatch(c.entries);
  if (!del.ok() || !del->failed.empty()) std::abort();
  return c.got.size();
}

size_t ReceiveAndDelete(bool md5) {
  thread_local Consumer consumer;
  return ReceiveAndDelete(*shared.queue, consumer, md5);
}

// One thread: send 10, receive up to 10, delete them.
void FifoLifecycle(benchmark::State& state, bool md5) {
  Setup(static_cast<int>(state.range(0)));
  size_t done = 0;
  for (auto _ : state) {
    Send(10, md5);
    done += ReceiveAndDelete(md5);
  }
  state.SetItemsProcessed(static_cast<int64_t>(done));
  Teardown();
}
void BM_FifoLifecycle(benchmark::State& state) { FifoLifecycle(state, /*md5=*/false); }
void BM_FifoLifecycleMd5(benchmark::State& state) { FifoLifecycle(state, /*md5=*/true); }
BENCHMARK(BM_FifoLifecycle)->Arg(1)->Arg(100)->Arg(10000)->ArgName("groups");
BENCHMARK(BM_FifoLifecycleMd5)->Arg(1)->Arg(100)->Arg(10000)->ArgName("groups");

// N producers + N consumers (2 + 2, or 8 + 8 on FIFO groups and moodycamel): each iteration
// moves kBatch messages through the queue, producers and consumers on their own threads; the
// time is the wall time until all are deleted.
constexpr int kBatch = 20000;

template <typename Produce, typename Consume>
double RunPairs(int pairs, Produce produce, Consume consume) {
  std::atomic<int> consumed{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int p = 0; p < pairs; ++p) {
    threads.emplace_back([&] {
      for (int i = 0; i < kBatch / pairs; i += 10) produce();
    });
  }
  for (int c = 0; c < pairs; ++c) {
    threads.emplace_back([&] {
      while (consumed.load(std::memory_order_relaxed) < kBatch) {
        const size_t n = consume();
        if (n == 0) {
          std::this_thread::yield();
        } else {
          consumed.fetch_add(static_cast<int>(n), std::memory_order_relaxed);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void FifoLifecyclePairs(benchmark::State& state, int pairs) {
  Setup(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    state.SetIterationTime(RunPairs(
        pairs, [] { Send(10, /*md5=*/false); }, [] { return ReceiveAndDelete(false); }));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  Teardown();
}
void BM_FifoLifecycle2P2C(benchmark::State& state) { FifoLifecyclePairs(state, 2); }
void BM_FifoLifecycle8P8C(benchmark::State& state) { FifoLifecyclePairs(state, 8); }
BENCHMARK(BM_FifoLifecycle2P2C)
    ->Arg(1)
    ->Arg(100)
    ->Arg(10000)
    ->ArgName("groups")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FifoLifecycle8P8C)
    ->Arg(100)
    ->ArgName("groups")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_FifoMemory1M(benchmark::State& state) {
  for (auto _ : state) {
    ResetPeakRss();
    state.counters["start_rss_mib"] = StatusMib("VmRSS:");
    auto clock = std::make_shared<courier::ManualClock>();
    courier::Hub hub(courier::Environment::Deterministic(clock));
    auto q = courier::FifoQueue::Create(hub, "memory.fifo").value();
    for (int i = 0; i < 1'000'000; ++i) {
      courier::SendMessageRequest request{.body = kBody,
                                          .message_group_id = "group-" + std::to_string(i % 100),
                                          .message_deduplication_id = std::to_string(i)};
      if (!q->SendMessageNoMd5(std::move(request)).ok()) std::abort();
    }
    state.counters["peak_rss_mib"] = StatusMib("VmHWM:");
    Consumer consumer;
    while (ReceiveAndDelete(*q, consumer, false) > 0) {
    }
    ReceiveAndDelete(*q, consumer, false);  // as a consumer polling an empty queue would
    malloc_trim(0);
    state.counters["drained_rss_mib"] = StatusMib("VmRSS:");
    // Past the 5-minute deduplication window, a send lets go of the ids it held.
    clock->Advance(absl::Minutes(6));
    if (!q->SendMessageNoMd5(
              {.body = kBody, .message_group_id = "g", .message_deduplication_id = "x"})
             .ok()) {
      std::abort();
    }
    ReceiveAndDelete(*q, consumer, false);
    malloc_trim(0);
    state.counters["after_window_rss_mib"] = StatusMib("VmRSS:");
  }
}
BENCHMARK(BM_FifoMemory1M)->Iterations(1)->Unit(benchmark::kMillisecond);

// ---- The standard queue (courier::Queue), the same lifecycle without groups ----

struct StandardShared {
  std::unique_ptr<courier::Hub> hub;
  std::shared_ptr<courier::Queue> queue;
};
StandardShared standard;

void StandardSend(int n) {
  for (int i = 0; i < n; ++i) {
    if (!standard.queue->SendMessageNoMd5({.body = kBody}).ok()) std::abort();
  }
}

size_t StandardReceiveAndDelete() {
  thread_local Consumer consumer;
  return ReceiveAndDelete(*standard.queue, consumer, /*md5=*/false);
}

void StandardSetup() {
  standard.hub = std::make_unique<courier::Hub>(courier::Environment::Default());
  standard.queue = Sqs(*standard.hub).CreateQueue("bench").value();
}

void StandardTeardown() {
  standard.queue.reset();
  standard.hub.reset();
}

void BM_StandardLifecycle(benchmark::State& state) {
  StandardSetup();
  size_t done = 0;
  for (auto _ : state) {
    StandardSend(10);
    done += StandardReceiveAndDelete();
  }
  state.SetItemsProcessed(static_cast<int64_t>(done));
  StandardTeardown();
}
BENCHMARK(BM_StandardLifecycle);

void BM_StandardLifecycle2P2C(benchmark::State& state) {
  StandardSetup();
  for (auto _ : state) {
    state.SetIterationTime(RunPairs(
        2, [] { StandardSend(10); }, [] { return StandardReceiveAndDelete(); }));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  StandardTeardown();
}
BENCHMARK(BM_StandardLifecycle2P2C)->UseManualTime()->Unit(benchmark::kMillisecond);

// ---- Baselines: the same 100-byte messages through a plain queue ----

void BM_MoodycamelEnqueueDequeue(benchmark::State& state) {
  moodycamel::ConcurrentQueue<std::string> queue;
  std::string out;
  size_t done = 0;
  for (auto _ : state) {
    for (int i = 0; i < 10; ++i) queue.enqueue(kBody);
    for (int i = 0; i < 10; ++i) done += queue.try_dequeue(out) ? 1 : 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(done));
}
BENCHMARK(BM_MoodycamelEnqueueDequeue);

void MoodycamelPairs(benchmark::State& state, int pairs) {
  moodycamel::ConcurrentQueue<std::string> queue;
  for (auto _ : state) {
    state.SetIterationTime(RunPairs(
        pairs,
        [&] {
          for (int i = 0; i < 10; ++i) queue.enqueue(kBody);
        },
        [&] {
          std::string out;
          size_t n = 0;
          for (int i = 0; i < 10; ++i) n += queue.try_dequeue(out) ? 1 : 0;
          return n;
        }));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
void BM_MoodycamelEnqueueDequeue2P2C(benchmark::State& state) { MoodycamelPairs(state, 2); }
void BM_MoodycamelEnqueueDequeue8P8C(benchmark::State& state) { MoodycamelPairs(state, 8); }
BENCHMARK(BM_MoodycamelEnqueueDequeue2P2C)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MoodycamelEnqueueDequeue8P8C)->UseManualTime()->Unit(benchmark::kMillisecond);

struct MutexDeque {
  std::mutex mu;
  std::deque<std::string> items;
  void Push(const std::string& s) {
    std::lock_guard lock(mu);
    items.push_back(s);
  }
  bool Pop(std::string& out) {
    std::lock_guard lock(mu);
    if (items.empty()) return false;
    out = std::move(items.front());
    items.pop_front();
    return true;
  }
};

void BM_MutexDeque(benchmark::State& state) {
  MutexDeque queue;
  std::string out;
  size_t done = 0;
  for (auto _ : state) {
    for (int i = 0; i < 10; ++i) queue.Push(kBody);
    for (int i = 0; i < 10; ++i) done += queue.Pop(out) ? 1 : 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(done));
}
BENCHMARK(BM_MutexDeque);

void BM_MutexDeque2P2C(benchmark::State& state) {
  MutexDeque queue;
  for (auto _ : state) {
    state.SetIterationTime(RunPairs(
        2,
        [&] {
          for (int i = 0; i < 10; ++i) queue.Push(kBody);
        },
        [&] {
          std::string out;
          size_t n = 0;
          for (int i = 0; i < 10; ++i) n += queue.Pop(out) ? 1 : 0;
          return n;
        }));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_MutexDeque2P2C)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
