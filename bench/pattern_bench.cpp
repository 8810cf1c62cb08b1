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

#include "courier/json.h"
#include "courier/pattern.h"

namespace {

namespace fs = std::filesystem;

// $COURIER_CITYLOTS_DIR, else tmp/citylots in the build folder (this program is build/bench/...),
// never inside the source tree.
std::string DataDir() {
  const char* env = std::getenv("COURIER_CITYLOTS_DIR");
  if (env != nullptr) return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  fs::path build = ec ? fs::current_path() : exe.parent_path().parent_path();
  return (build / "tmp" / "citylots").string();
}

const std::vector<std::string>& Events() {
  static const std::vector<std::string> events = [] {
    std::string dir = DataDir();
    std::string file = dir + "/citylots2-synth.json.gz";
    if (!fs::exists(file)) {
      fs::create_directories(dir);
      std::string cmd = fmt::format("python3 {}/citylots/gen_citylots_synth.py '{}' > /dev/null",
                                    COURIER_BENCH_DATA_DIR, dir);
      std::fprintf(stderr, "generating %s (about 25 s)\n", file.c_str());
      if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "generator failed\n");
    }
    std::vector<std::string> out;
    gzFile gz = gzopen(file.c_str(), "rb");
    if (gz == nullptr) return out;
    std::string line;
    char buf[1 << 16];
    while (gzgets(gz, buf, sizeof buf) != nullptr) {
      line.append(buf);
      if (!line.empty() && line.back() == '\n') {
        line.pop_back();
        out.push_back(std::move(line));
        line.clear();
      }
    }
    if (!line.empty()) out.push_back(line);
    gzclose(gz);
    return out;
  }();
  return events;
}

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
  const auto& events = Events();
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

// N rules of mixed kinds over the fields the events carry: exact MAPBLKLOT values, STREET
// prefixes, narrow numeric ranges on firstCoordinates.x and exact TO_ST values, drawn so that
// few of them match any one event. Matching time should stay flat as N grows from 10 to 100,000
// (what grows is the size of the indexes, not the work per event).
std::vector<std::pair<std::string, courier::RuleSet::Rule>> MixedRules(size_t n) {
  std::mt19937_64 rng(42);
  std::vector<std::pair<std::string, courier::RuleSet::Rule>> rules;
  for (size_t i = 0; i < n; ++i) {
    std::string text;
    switch (i % 4) {
      case 0:
        text = fmt::format(R"({{"properties":{{"MAPBLKLOT":["{}"]}}}})", 1000000 + rng() % 7600000);
        break;
      case 1: {
        std::string p;
        for (int k = 0; k < 6; ++k) p.push_back(static_cast<char>('A' + rng() % 26));
        text = fmt::format(R"({{"properties":{{"STREET":[{{"prefix":"{}"}}]}}}})", p);
        break;
      }
      case 2: {
        double lo = -122.514 + static_cast<double>(rng() % 157000) * 1e-6;
        text = fmt::format(
            R"({{"geometry":{{"firstCoordinates":{{"x":[{{"numeric":[">",{:.6f},"<",{:.8f}]}}]}}}}}})",
            lo, lo + 1e-8);
        break;
      }
      default:
        text = fmt::format(R"({{"properties":{{"TO_ST":["{}"],"ST_TYPE":["ST"]}}}})",
                           40000 + rng() % 1000000);
        break;
    }
    auto p = courier::EventPattern::Compile(text);
    rules.emplace_back(fmt::format("r{}", i), p.value());
  }
  return rules;
}

void BM_CityLots_RuleCount(benchmark::State& state) {
  const auto& events = Events();
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
