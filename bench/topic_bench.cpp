// Topic publish cost against its floor: the same copies sent straight to the queues, in the
// same binary. 100-byte bodies, one String attribute, raw delivery (the body as is: the same
// SendMessage the floor makes) unless the name says envelope.
//
//   BM_PublishRaw/N          publish to N raw subscribers without filter policies
//   BM_DirectSend/N          the floor: SendMessage of the same body to each of the N queues
//   BM_PublishEnvelope/1     publish to 1 subscriber that receives SNS's JSON envelope
//   BM_PublishFiltered       1,000 subscribers with distinct filter policies, 100 of them match
//   BM_DirectSendFiltered    the floor: the 100 copies sent straight to the matching queues
//   BM_PublishNonMatching/N  1 raw subscriber plus N whose policies never match the message
//                            (compare with BM_PublishRaw/1)
// Each on 1 thread and 2 threads. Items are publishes. The queues are drained outside the timed
// part, so the figures are the publish and the copies' SendMessage only.
//
//   bench/topic_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/topic.h"

namespace {

const std::string kBody(100, 'x');

struct World {
  std::unique_ptr<courier::Hub> hub;
  std::shared_ptr<courier::Topic> topic;
  std::vector<std::shared_ptr<courier::Queue>> queues;    // every subscriber
  std::vector<std::shared_ptr<courier::Queue>> matching;  // the ones a message reaches
};
World world;

// `plain` raw subscribers with no policy; `filtered` with distinct policies of which one in
// ten matches kind=v0 (when `some_match`) or none do.
void Setup(int plain, int filtered, bool some_match, bool raw = true) {
  world = World{};
  world.hub = std::make_unique<courier::Hub>(courier::Environment::Deterministic());
  courier::SnsService& sns = courier::Sns(*world.hub);
  sns.SetQuotas({.filter_policies_per_topic = 1000});  // AWS's 200, raised as AWS would on request
  world.topic = sns.CreateTopic("bench").value();
  for (int i = 0; i < plain + filtered; ++i) {
    auto q = courier::Sqs(*world.hub).CreateQueue("q" + std::to_string(i)).value();
    courier::SnsAttributeMap attributes;
    if (raw) attributes["RawMessageDelivery"] = "true";
    bool matches = true;
    if (i >= plain) {
      const int k = i - plain;
      // Distinct policies: each names its own second value.
      const std::string value = some_match ? "v" + std::to_string(k % 10) : "w";
      attributes["FilterPolicy"] =
          R"({"kind":[")" + value + R"(",")" + "only-" + std::to_string(k) + R"("]})";
      matches = some_match && k % 10 == 0;
    }
    sns.Subscribe(world.topic->arn(), "sqs", q->arn(), attributes).value();
    world.queues.push_back(q);
    if (matches) world.matching.push_back(q);
  }
  // A queue's first message allocates its storage (about 0.6 ms): pay it here, untimed.
  for (auto& q : world.queues) {
    q->SendMessage({.body = kBody}).value();
    auto got = q->ReceiveMessage({.max_number_of_messages = 1}).value();
    for (auto& m : got) q->DeleteMessage(m.receipt_handle).IgnoreError();
  }
}

const courier::MessageAttributes kAttributes = {{"kind", courier::MessageAttribute::String("v0")}};

// Each side builds its request per call, as a caller would: a copy of the body and attributes.
courier::PublishRequest Message() { return {.message = kBody, .attributes = kAttributes}; }

// Empties the queues that receive copies (untimed).
void Drain(benchmark::State& state) {
  state.PauseTiming();
  for (auto& q : world.matching) {
    for (;;) {
      auto got = q->ReceiveMessage({.max_number_of_messages = 10, .md5_of_body = false});
      if (!got.ok() || got->empty()) break;
      std::vector<courier::Queue::HandleBatchEntry> entries(got->size());
      for (size_t i = 0; i < got->size(); ++i) {
        entries[i].id = std::to_string(i);
        entries[i].receipt_handle = (*got)[i].receipt_handle;
      }
      benchmark::DoNotOptimize(q->DeleteMessageBatch(entries));
    }
  }
  state.ResumeTiming();
}

// Drain after about 4 Ki copies per thread: the queues stay small, so the figures are the
// publish and the sends, not the first touch of new queue memory.
int64_t DrainEvery() {
  return std::max<int64_t>(1, 4096 / std::max<int64_t>(1, world.matching.size()));
}

void RunPublish(benchmark::State& state) {
  int64_t every = 0, n = 0;
  for (auto _ : state) {
    if (every == 0) every = DrainEvery();  // after the start barrier: thread 0 has set up
    benchmark::DoNotOptimize(world.topic->Publish(Message()));
    if (++n % every == 0 && state.thread_index() == 0) Drain(state);
  }
  state.SetItemsProcessed(state.iterations());
}

void RunDirect(benchmark::State& state) {
  int64_t every = 0, n = 0;
  for (auto _ : state) {
    if (every == 0) every = DrainEvery();
    for (auto& q : world.matching) {
      benchmark::DoNotOptimize(q->SendMessage({.body = kBody, .attributes = kAttributes}));
    }
    if (++n % every == 0 && state.thread_index() == 0) Drain(state);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PublishRaw(benchmark::State& state) {
  if (state.thread_index() == 0) Setup(static_cast<int>(state.range(0)), 0, false);
  RunPublish(state);
}
void BM_DirectSend(benchmark::State& state) {
  if (state.thread_index() == 0) Setup(static_cast<int>(state.range(0)), 0, false);
  RunDirect(state);
}
void BM_PublishEnvelope(benchmark::State& state) {
  if (state.thread_index() == 0) Setup(static_cast<int>(state.range(0)), 0, false, false);
  RunPublish(state);
}
void BM_PublishFiltered(benchmark::State& state) {
  if (state.thread_index() == 0) Setup(0, 1000, true);
  RunPublish(state);
}
void BM_DirectSendFiltered(benchmark::State& state) {
  if (state.thread_index() == 0) Setup(0, 1000, true);
  RunDirect(state);
}
void BM_PublishNonMatching(benchmark::State& state) {
  if (state.thread_index() == 0) Setup(1, static_cast<int>(state.range(0)), false);
  RunPublish(state);
}

}  // namespace

BENCHMARK(BM_PublishRaw)
    ->Arg(1)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(BM_DirectSend)
    ->Arg(1)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(BM_PublishEnvelope)->Arg(1)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_PublishFiltered)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_DirectSendFiltered)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_PublishNonMatching)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

BENCHMARK_MAIN();
