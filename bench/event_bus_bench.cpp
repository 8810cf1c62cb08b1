// PutEvents throughput: batches of 10 CityLots-shaped events (~950 bytes of detail each) on a
// bus with 10, 1,000 or 100,000 rules of which one matches every event and sends it to a queue,
// on 1 and 2 threads; beside the floor, the pattern engine matching the same envelopes against
// the same rules (RuleSet::ForEachMatchInBatch, as PutEvents calls it), in the same binary.
// Also PutEvents on a bus without rules (its own work), and simdjson validating the same
// details (where it is installed).
//
// A PutEvents here is the whole path: the checks and the 256 KiB count, the envelope (id, time,
// the detail compacted), matching, the target's input and the queue's SendMessage. The queue is
// drained untimed every few thousand events so that it stays small.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "citylots.h"
#include "courier/environment.h"
#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/pattern.h"
#include "courier/queue.h"
#include "courier/sqs.h"

#if COURIER_BENCH_SIMDJSON
#include <simdjson.h>
#endif

namespace {

constexpr char kMatchAll[] = R"({"source":["citylots"],"detail-type":["Feature"]})";

// Both sides cycle through the same 2,000 events (about 2.4 MB of envelopes): the same events,
// and the same share of them in the caches. (PutEvents used to walk all 200,000 records, whose
// copies came from memory, while the floor matched 2,000.)
constexpr size_t kEvents = 2000;

// The first kEvents CityLots records as PutEvents entries, built once for every benchmark.
const std::vector<courier::PutEventsEntry>& Entries() {
  static const std::vector<courier::PutEventsEntry> entries = [] {
    const std::vector<std::string>& all = citylots::Events();
    std::vector<courier::PutEventsEntry> out;
    for (size_t i = 0; i < std::min(kEvents, all.size()); ++i) {
      out.push_back({.source = "citylots", .detail_type = "Feature", .detail = all[i]});
    }
    return out;
  }();
  return entries;
}

struct World {
  std::unique_ptr<courier::Hub> hub;
  std::shared_ptr<courier::EventBus> bus;
  std::shared_ptr<courier::Queue> queue;
  int64_t rules = 0;
};
World world;

void Setup(int64_t rules) {
  if (world.hub && world.rules == rules) return;
  world = World{};
  world.hub = std::make_unique<courier::Hub>(courier::Environment::Deterministic());
  courier::EventsService& events = courier::Events(*world.hub);
  events.SetQuotas({.rules_per_bus = static_cast<size_t>(rules) + 1});
  world.bus = events.GetEventBus("default").value();
  world.queue = courier::Sqs(*world.hub).CreateQueue("matched").value();
  world.rules = rules;
  if (rules == 0) return;  // PutEvents' own work alone: nothing to match or deliver
  std::vector<std::pair<std::string, courier::RuleSpec>> specs;
  std::vector<std::string> patterns =
      citylots::MixedPatterns(static_cast<size_t>(rules - 1), "detail");
  for (size_t i = 0; i < patterns.size(); ++i) {
    specs.push_back({fmt::format("r{}", i), {.event_pattern = patterns[i]}});
  }
  specs.push_back({"all", {.event_pattern = kMatchAll}});
  world.bus->PutRules(specs).IgnoreError();
  world.bus->PutTargets("all", {{.id = "q", .arn = world.queue->arn()}}).value();
}

void Drain() {
  for (;;) {
    auto got = world.queue->ReceiveMessage({.max_number_of_messages = 10, .md5_of_body = false});
    if (!got.ok() || got->empty()) return;
    std::vector<courier::HandleBatchEntry> entries(got->size());
    for (size_t i = 0; i < got->size(); ++i) {
      entries[i].id = std::to_string(i);
      entries[i].receipt_handle = (*got)[i].receipt_handle;
    }
    benchmark::DoNotOptimize(world.queue->DeleteMessageBatch(entries));
  }
}

void BM_PutEvents(benchmark::State& state) {
  const std::vector<courier::PutEventsEntry>& entries = Entries();
  if (entries.empty()) {
    state.SkipWithError("no events (generator failed?)");
    return;
  }
  if (state.thread_index() == 0) Setup(state.range(0));
  size_t next = static_cast<size_t>(state.thread_index()) * 997 * 10 % entries.size();
  auto matched = [] {
    return world.rules == 0 ? 0 : world.bus->RuleMetrics("all")->at("MatchedEvents");
  };
  const int64_t matched_before = state.thread_index() == 0 ? matched() : 0;
  int64_t puts = 0;
  std::vector<courier::PutEventsEntry> batch(10);
  for (auto _ : state) {
    for (auto& e : batch) {
      e = entries[next];
      next = next + 1 == entries.size() ? 0 : next + 1;
    }
    auto r = world.bus->PutEvents(std::move(batch));
    if (!r.ok() || r->failed_entry_count != 0) {
      state.SkipWithError("PutEvents failed");
      break;
    }
    batch.resize(10);
    if (++puts % 256 == 0) {
      state.PauseTiming();
      Drain();
      state.ResumeTiming();
    }
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * 10), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) {
    state.counters["matched_per_event"] =
        static_cast<double>(matched() - matched_before) /
        static_cast<double>(std::max<int64_t>(1, state.iterations() * 10 * state.threads()));
  }
}

// The floor: the same rules, matched by the pattern engine alone against the envelopes that
// PutEvents builds (taken from the queue once), in batches of 10.
void BM_PatternFloor(benchmark::State& state) {
  const std::vector<courier::PutEventsEntry>& entries = Entries();
  if (entries.empty()) {
    state.SkipWithError("no events");
    return;
  }
  std::vector<std::pair<std::string, courier::RuleSet::Rule>> rules;
  std::vector<std::string> patterns =
      citylots::MixedPatterns(static_cast<size_t>(state.range(0) - 1), "detail");
  for (size_t i = 0; i < patterns.size(); ++i) {
    rules.emplace_back(fmt::format("r{}", i), courier::EventPattern::Compile(patterns[i]).value());
  }
  rules.emplace_back("all", courier::EventPattern::Compile(kMatchAll).value());
  courier::RuleSet set;
  set.Update(std::move(rules));
  auto snap = set.snapshot();
  // The envelopes as the bus makes them.
  Setup(2);
  std::vector<std::string> envelopes;
  for (size_t b = 0; b + 10 <= entries.size(); b += 10) {
    std::vector<courier::PutEventsEntry> batch(entries.begin() + b, entries.begin() + b + 10);
    world.bus->PutEvents(std::move(batch)).value();
    for (;;) {
      auto got = world.queue->ReceiveMessage({.max_number_of_messages = 10}).value();
      if (got.empty()) break;
      for (auto& m : got) {
        envelopes.push_back(std::move(m.body));
        world.queue->DeleteMessage(m.receipt_handle).IgnoreError();
      }
    }
  }
  world = World{};
  size_t next = 0;
  int64_t matches = 0;
  std::vector<std::string_view> views(10);
  for (auto _ : state) {
    for (auto& v : views) {
      v = envelopes[next];
      next = next + 1 == envelopes.size() ? 0 : next + 1;
    }
    snap.ForEachMatchInBatch(views, [&](size_t, size_t) { ++matches; });
  }
  benchmark::DoNotOptimize(matches);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * 10), benchmark::Counter::kIsRate);
  state.counters["matched_per_event"] =
      static_cast<double>(matches) /
      static_cast<double>(std::max<int64_t>(1, state.iterations() * 10));
}

#if COURIER_BENCH_SIMDJSON
// A baseline for PutEvents' check of each detail: simdjson's DOM parser (its fastest kernel for
// this processor) validating the same details, in batches of 10.
void BM_SimdjsonDetail(benchmark::State& state) {
  const std::vector<courier::PutEventsEntry>& entries = Entries();
  static const std::vector<simdjson::padded_string> details = [&] {
    std::vector<simdjson::padded_string> out;
    for (const auto& e : entries) out.emplace_back(e.detail);
    return out;
  }();
  if (details.empty()) {
    state.SkipWithError("no events");
    return;
  }
  simdjson::dom::parser parser;
  size_t next = 0;
  int64_t valid = 0;
  for (auto _ : state) {
    for (int i = 0; i < 10; ++i) {
      valid += parser.parse(details[next]).error() == simdjson::SUCCESS;
      next = next + 1 == details.size() ? 0 : next + 1;
    }
  }
  if (valid != state.iterations() * 10) state.SkipWithError("a detail did not parse");
  state.SetLabel(simdjson::get_active_implementation()->name());
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * 10), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimdjsonDetail);
#endif

BENCHMARK(BM_PatternFloor)->Arg(10)->Arg(1000)->Arg(100000)->ArgName("rules");
// rules:0 is PutEvents' own work: its checks, each detail's check and compaction, the envelope.
BENCHMARK(BM_PutEvents)
    ->Arg(0)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(100000)
    ->ArgName("rules")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
