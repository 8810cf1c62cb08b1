// Event-pattern matching throughput on the CityLots-shaped data set (213,068 events of ~950 bytes)
// for every rule set of bench/data/citylots/cl2-rules.json, checked against expected-counts.json,
// and the cost of matching as the rule count grows (10, 1,000, 100,000 rules).
//
// The events are generated on first use by bench/data/citylots/gen_citylots_synth.py (~25 s) into
// $COURIER_CITYLOTS_DIR (default: tmp/citylots in the build folder).
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "citylots.h"
#include "courier/json.h"
#include "courier/pattern.h"

namespace {

namespace fs = std::filesystem;

courier::Json ReadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return courier::ParseJson(ss.str()).value();
}

struct RuleSetCase {
  std::vector<std::string> rules;
  std::vector<int64_t> expected;
};

RuleSetCase LoadSet(const std::string& name) {
  static const courier::Json rules = ReadJson(COURIER_BENCH_DATA_DIR "/citylots/cl2-rules.json");
  static const courier::Json counts =
      ReadJson(COURIER_BENCH_DATA_DIR "/citylots/expected-counts.json");
  RuleSetCase c;
  std::vector<std::string> members;
  if (rules.as_object().contains(name) && rules.at(name).is_array()) {
    for (const auto& m : rules.at(name).as_array()) members.emplace_back(m.as_string());
  } else {
    members.push_back(name);
  }
  for (const std::string& set : members) {
    for (const auto& r : rules.at("sets").at(set).at("rules").as_array()) {
      c.rules.emplace_back(r.as_string());
    }
    for (const auto& n : counts.at(set).as_array()) c.expected.push_back(n.as_int64());
  }
  return c;
}

// Matches every event once per iteration; fails the benchmark if any rule's count is off.
void RunSet(benchmark::State& state, const std::string& name) {
  const auto& events = citylots::Events();
  if (events.empty()) {
    state.SkipWithError("no events (generator failed?)");
    return;
  }
  RuleSetCase c = LoadSet(name);
  courier::RuleSet set;
  std::vector<std::pair<std::string, courier::RuleSet::Rule>> rules;
  for (size_t i = 0; i < c.rules.size(); ++i) {
    auto p = courier::EventPattern::Compile(c.rules[i]);
    if (!p.ok()) {
      state.SkipWithError(std::string(p.status().message()).c_str());
      return;
    }
    rules.emplace_back(fmt::format("r{:03}", i), *p);
  }
  set.Update(std::move(rules));
  auto snap = set.snapshot();
  std::vector<int64_t> counts(c.rules.size());
  // batch > 0: ForEachMatchInBatch over batches of that many events (PutEvents takes 10).
  size_t batch = static_cast<size_t>(state.range(0));
  std::vector<std::string_view> views;
  for (auto _ : state) {
    std::fill(counts.begin(), counts.end(), 0);
    if (batch == 0) {
      for (const std::string& e : events) {
        snap.ForEachMatch(e, [&](size_t i) { ++counts[i]; });
      }
    } else {
      for (size_t b = 0; b < events.size(); b += batch) {
        views.clear();
        for (size_t e = b; e < std::min(events.size(), b + batch); ++e) views.push_back(events[e]);
        snap.ForEachMatchInBatch(views, [&](size_t, size_t i) { ++counts[i]; });
      }
    }
  }
  if (counts != c.expected) {
    std::string msg = "match counts differ from expected-counts.json:";
    for (size_t i = 0; i < counts.size(); ++i) {
      msg += fmt::format(" {}/{}", counts[i], c.expected[i]);
    }
    state.SkipWithError(msg.c_str());
    return;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(events.size()));
  state.counters["events_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * static_cast<int64_t>(events.size())),
      benchmark::Counter::kIsRate);
}

#define CL2_SET(name)                                                        \
  void BM_CityLots_##name(benchmark::State& state) { RunSet(state, #name); } \
  BENCHMARK(BM_CityLots_##name)->Arg(0)->Arg(10)->ArgName("batch")->Unit(benchmark::kMillisecond)

CL2_SET(EXACT);
CL2_SET(WILDCARD);
CL2_SET(PREFIX);
CL2_SET(PREFIX_EQUALS_IGNORE_CASE);
CL2_SET(SUFFIX);
CL2_SET(SUFFIX_EQUALS_IGNORE_CASE);
CL2_SET(EQUALS_IGNORE_CASE);
CL2_SET(NUMERIC);
CL2_SET(ANYTHING_BUT);
CL2_SET(ANYTHING_BUT_IGNORE_CASE);
CL2_SET(ANYTHING_BUT_PREFIX);
CL2_SET(ANYTHING_BUT_SUFFIX);
CL2_SET(ANYTHING_BUT_WILDCARD);
CL2_SET(COMPLEX_ARRAYS);
CL2_SET(ANYTHING_BUT_PERF);
CL2_SET(PARTIAL_COMBO);
CL2_SET(COMBO);

std::vector<std::pair<std::string, courier::RuleSet::Rule>> MixedRules(size_t n) {
  std::vector<std::pair<std::string, courier::RuleSet::Rule>> rules;
  std::vector<std::string> texts = citylots::MixedPatterns(n);
  for (size_t i = 0; i < texts.size(); ++i) {
    rules.emplace_back(fmt::format("r{}", i), courier::EventPattern::Compile(texts[i]).value());
  }
  return rules;
}

void BM_CityLots_RuleCount(benchmark::State& state) {
  const auto& events = citylots::Events();
  if (events.empty()) {
    state.SkipWithError("no events");
    return;
  }
  auto rules = MixedRules(static_cast<size_t>(state.range(0)));
  courier::RuleSet set;
  set.Update(std::move(rules));
  auto snap = set.snapshot();
  int64_t matches = 0;
  for (auto _ : state) {
    for (const std::string& e : events) {
      matches += static_cast<int64_t>(snap.ForEachMatch(e, [](size_t) {}));
    }
  }
  benchmark::DoNotOptimize(matches);
  state.counters["events_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * static_cast<int64_t>(events.size())),
      benchmark::Counter::kIsRate);
  state.counters["matches_per_event"] =
      static_cast<double>(matches) /
      static_cast<double>(state.iterations() * static_cast<int64_t>(events.size()));
}
// Compiling N rules into one automaton (RuleSet::Update).
void BM_BuildRuleSet(benchmark::State& state) {
  auto rules = MixedRules(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    courier::RuleSet set;
    set.Update(rules);
    benchmark::DoNotOptimize(set.size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BuildRuleSet)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

BENCHMARK(BM_CityLots_RuleCount)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
