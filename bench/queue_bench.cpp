// Standard queue lifecycle throughput: SendMessage x10 -> ReceiveMessage(10) ->
// DeleteMessageBatch(10) on 100-byte bodies, with and without MD5OfMessageBody, on 1 thread,
// 1 producer + 1 consumer, 2 + 2 and 8 + 8, beside moodycamel::ConcurrentQueue enqueue+dequeue
// and a mutex+deque of the same messages, in the same run. Items are messages (one lifecycle
// each). BM_Memory10M queues 10 million 100-byte messages and reports the peak RSS (the peak is
// reset first, and the RSS it started from is reported beside it: run it alone, with
// --benchmark_filter=Memory, for a figure that holds nothing else), then receives and deletes
// them all (on 1 or 2 consumer threads) and reports the RSS once the freed memory is given
// back, and the slowest receive of the drain (the one that gives the slab's pages back).
//
//   bench/queue_bench --benchmark_min_time=0.2
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

#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "rss.h"

namespace {

const std::string kBody(100, 'x');

struct Shared {
  std::unique_ptr<courier::Hub> hub;
  std::shared_ptr<courier::Queue> queue;
};
Shared shared;

void Setup() {
  shared.hub = std::make_unique<courier::Hub>(courier::Environment::Default());
  shared.queue = Sqs(*shared.hub).CreateQueue("bench").value();
}

void Send10(courier::Queue& q, bool md5) {
  for (int i = 0; i < 10; ++i) {
    auto r = md5 ? q.SendMessage({.body = kBody}) : q.SendMessageNoMd5({.body = kBody});
    benchmark::DoNotOptimize(r);
  }
}

// A consumer's buffers, reused from one receive to the next as a bulk dequeue reuses its array.
struct Consumer {
  std::vector<courier::Message> got;
  std::vector<courier::Queue::HandleBatchEntry> entries;
};

// Receives and deletes up to 10; returns how many.
int ReceiveDelete(courier::Queue& q, Consumer& c, int max, bool md5) {
  if (!q.ReceiveMessage({.max_number_of_messages = max, .md5_of_body = md5}, c.got).ok()) return 0;
  if (c.got.empty()) return 0;
  c.entries.resize(c.got.size());
  for (size_t i = 0; i < c.got.size(); ++i) {
    c.entries[i].id.assign(1, static_cast<char>('0' + i));
    c.entries[i].receipt_handle = c.got[i].receipt_handle;
  }
  benchmark::DoNotOptimize(q.DeleteMessageBatch(c.entries));
  return static_cast<int>(c.got.size());
}

// Even threads produce, odd threads consume; one thread does both.
void Lifecycle(benchmark::State& state, bool md5) {
  if (state.thread_index() == 0) Setup();
  courier::Queue* queue = nullptr;
  const bool alone = state.threads() == 1;
  const bool producer = state.thread_index() % 2 == 0;
  Consumer consumer;
  for (auto _ : state) {
    if (queue == nullptr) queue = shared.queue.get();  // after the start barrier
    courier::Queue& q = *queue;
    if (alone || producer) Send10(q, md5);
    if (alone || !producer) {
      int n = 0;
      while (n < 10) n += ReceiveDelete(q, consumer, 10 - n, md5);
    }
  }
  state.SetItemsProcessed(state.iterations() * 10 / (alone ? 1 : 2));
}
void BM_CourierLifecycle(benchmark::State& state) { Lifecycle(state, false); }
void BM_CourierLifecycleMd5(benchmark::State& state) { Lifecycle(state, true); }

// A receive that finds nothing: what a consumer polling an empty queue costs the others.
void BM_CourierEmptyReceive(benchmark::State& state) {
  if (state.thread_index() == 0) Setup();
  Consumer consumer;
  for (auto _ : state) benchmark::DoNotOptimize(ReceiveDelete(*shared.queue, consumer, 10, false));
  state.SetItemsProcessed(state.iterations());
}

struct Item {
  std::string body;
};
moodycamel::ConcurrentQueue<Item>* mc = nullptr;
void BM_MoodycamelEnqueueDequeue(benchmark::State& state) {
  static moodycamel::ConcurrentQueue<Item> instance;
  mc = &instance;
  const bool alone = state.threads() == 1;
  const bool producer = state.thread_index() % 2 == 0;
  Item out[10];
  for (auto _ : state) {
    if (alone || producer) {
      for (int i = 0; i < 10; ++i) mc->enqueue(Item{kBody});
    }
    if (alone || !producer) {
      size_t n = 0;
      while (n < 10) n += mc->try_dequeue_bulk(out, 10 - n);
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetItemsProcessed(state.iterations() * 10 / (alone ? 1 : 2));
}

std::mutex deque_mu;
std::deque<Item> dq;
void BM_MutexDeque(benchmark::State& state) {
  const bool alone = state.threads() == 1;
  const bool producer = state.thread_index() % 2 == 0;
  for (auto _ : state) {
    if (alone || producer) {
      for (int i = 0; i < 10; ++i) {
        Item item{kBody};
        std::lock_guard lock(deque_mu);
        dq.push_back(std::move(item));
      }
    }
    if (alone || !producer) {
      int n = 0;
      while (n < 10) {
        std::lock_guard lock(deque_mu);
        while (n < 10 && !dq.empty()) {
          benchmark::DoNotOptimize(dq.front());
          dq.pop_front();
          ++n;
        }
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * 10 / (alone ? 1 : 2));
}

void BM_Memory10M(benchmark::State& state) {
  for (auto _ : state) {
    ResetPeakRss();
    state.counters["start_rss_mib"] = StatusMib("VmRSS:");
    courier::Hub hub(courier::Environment::Default());
    auto q = Sqs(hub).CreateQueue("memory").value();
    for (int i = 0; i < 10'000'000; ++i) {
      benchmark::DoNotOptimize(q->SendMessageNoMd5({.body = kBody}));
    }
    state.counters["peak_rss_mib"] = StatusMib("VmHWM:");
    state.counters["queued"] = std::stod(q->GetQueueAttributes({"ApproximateNumberOfMessages"})
                                             .value()["ApproximateNumberOfMessages"]);
    // Drained by `consumers` threads, then this one receives once more, as a consumer polling
    // an empty queue would. One receive of them all gives the slab back: the slowest.
    using Clock = std::chrono::steady_clock;
    std::atomic<int64_t> slowest_ns{0};
    auto receive = [&](Consumer& consumer) {
      const auto before = Clock::now();
      const int got = ReceiveDelete(*q, consumer, 10, false);
      const int64_t ns = std::chrono::nanoseconds(Clock::now() - before).count();
      for (int64_t seen = slowest_ns.load();
           ns > seen && !slowest_ns.compare_exchange_weak(seen, ns);) {
      }
      return got;
    };
    auto drain = [&] {
      Consumer consumer;
      while (receive(consumer) > 0) {
      }
    };
    std::vector<std::thread> others;
    for (int i = 1; i < state.range(0); ++i) others.emplace_back(drain);
    drain();
    for (std::thread& t : others) t.join();
    Consumer consumer;
    receive(consumer);
    state.counters["slowest_receive_ms"] = static_cast<double>(slowest_ns.load()) / 1e6;
    malloc_trim(0);
    state.counters["drained_rss_mib"] = StatusMib("VmRSS:");
  }
}

}  // namespace

BENCHMARK(BM_CourierLifecycle)->Threads(1)->Threads(2)->Threads(4)->Threads(16)->UseRealTime();
BENCHMARK(BM_CourierEmptyReceive)->Threads(1)->UseRealTime();
BENCHMARK(BM_CourierLifecycleMd5)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_MoodycamelEnqueueDequeue)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->Threads(16)
    ->UseRealTime();
BENCHMARK(BM_MutexDeque)->Threads(1)->Threads(2)->Threads(4)->Threads(16)->UseRealTime();
BENCHMARK(BM_Memory10M)
    ->ArgName("consumers")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

BENCHMARK_MAIN();
