// SqsQueue (standard queue) lifecycle throughput: SendMessage x10 -> ReceiveMessage(10) ->
// DeleteMessageBatch on 100-byte bodies, with and without MD5OfMessageBody, on 1 thread, 1
// producer + 1 consumer and 2 + 2, beside the baselines (moodycamel::ConcurrentQueue
// enqueue+dequeue, a mutex+deque) in the same run. Items are messages (one lifecycle each).
//
//   bench/sqs_queue_bench --benchmark_min_time=0.2
//   bench/sqs_queue_bench --memory [messages]   # queue 10 M 100-byte messages, print peak RSS
#include <benchmark/benchmark.h>
#include <concurrentqueue/concurrentqueue.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "courier/hub.h"
#include "courier/sqs_queue.h"

namespace {

const std::string kBody(100, 'x');

struct Shared {
  std::unique_ptr<courier::Hub> hub;
  std::shared_ptr<courier::SqsQueue> queue;
};
Shared shared;

void Setup(bool md5) {
  shared.hub = std::make_unique<courier::Hub>(courier::Environment::Default());
  shared.queue = courier::SqsQueue::Create(*shared.hub, "bench", {}, {.md5_of_body = md5}).value();
}

void Teardown() {
  shared.queue.reset();
  shared.hub.reset();
}

void Send(int n) {
  for (int i = 0; i < n; ++i) {
    auto r = shared.queue->SendMessage({.body = kBody});
    if (!r.ok()) std::abort();
  }
}

size_t ReceiveAndDelete() {
  auto got = shared.queue->ReceiveMessage({.max_number_of_messages = 10});
  if (!got.ok()) std::abort();
  if (got->empty()) return 0;
  std::vector<courier::SqsQueue::HandleBatchEntry> entries;
  entries.reserve(got->size());
  static const char* kIds[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  for (size_t i = 0; i < got->size(); ++i) {
    entries.push_back({kIds[i], std::move((*got)[i].receipt_handle), {}});
  }
  auto del = shared.queue->DeleteMessageBatch(entries);
  if (!del.ok() || !del->failed.empty()) std::abort();
  return got->size();
}

// One thread: send 10, receive up to 10, delete them. Arg: MD5OfMessageBody computed (1) or not.
void BM_SqsLifecycle(benchmark::State& state) {
  Setup(state.range(0) != 0);
  size_t done = 0;
  for (auto _ : state) {
    Send(10);
    done += ReceiveAndDelete();
  }
  state.SetItemsProcessed(static_cast<int64_t>(done));
  Teardown();
}
BENCHMARK(BM_SqsLifecycle)->Arg(0)->Arg(1)->ArgName("md5");

// P producers + C consumers on their own threads move kBatch messages; the time is the wall time
// until all are consumed.
constexpr int kBatch = 40000;

template <typename Produce, typename Consume>
double RunThreads(int producers, int consumers, Produce produce, Consume consume) {
  std::atomic<int> consumed{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&] {
      for (int i = 0; i < kBatch / producers; i += 10) produce();
    });
  }
  for (int c = 0; c < consumers; ++c) {
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

// Args: threads per side (1 or 2), md5.
void BM_SqsLifecyclePC(benchmark::State& state) {
  Setup(state.range(1) != 0);
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    state.SetIterationTime(RunThreads(
        n, n, [] { Send(10); }, [] { return ReceiveAndDelete(); }));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  Teardown();
}
BENCHMARK(BM_SqsLifecyclePC)
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({1, 1})
    ->Args({2, 1})
    ->ArgNames({"per_side", "md5"})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

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

void BM_MoodycamelPC(benchmark::State& state) {
  moodycamel::ConcurrentQueue<std::string> queue;
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    state.SetIterationTime(RunThreads(
        n, n,
        [&] {
          for (int i = 0; i < 10; ++i) queue.enqueue(kBody);
        },
        [&] {
          std::string out;
          size_t got = 0;
          for (int i = 0; i < 10; ++i) got += queue.try_dequeue(out) ? 1 : 0;
          return got;
        }));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_MoodycamelPC)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("per_side")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

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

void BM_MutexDequePC(benchmark::State& state) {
  MutexDeque queue;
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    state.SetIterationTime(RunThreads(
        n, n,
        [&] {
          for (int i = 0; i < 10; ++i) queue.Push(kBody);
        },
        [&] {
          std::string out;
          size_t got = 0;
          for (int i = 0; i < 10; ++i) got += queue.Pop(out) ? 1 : 0;
          return got;
        }));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_MutexDequePC)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("per_side")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// --memory: queue N 100-byte messages (default 10 million) and report the peak resident set.
int MemoryMode(long count) {
  Setup(true);
  for (long i = 0; i < count; ++i) {
    if (!shared.queue->SendMessage({.body = kBody}).ok()) return 1;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto counts = shared.queue->GetQueueAttributes({"ApproximateNumberOfMessages"}).value();
  std::printf("queued %s messages of 100 bytes; peak RSS %.3f GiB (%.1f bytes per message)\n",
              counts.at("ApproximateNumberOfMessages").c_str(),
              static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0),
              static_cast<double>(usage.ru_maxrss) * 1024.0 / static_cast<double>(count));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--memory") == 0) {
    return MemoryMode(argc >= 3 ? std::atol(argv[2]) : 10'000'000L);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
