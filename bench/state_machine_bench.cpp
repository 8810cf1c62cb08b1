// Step Functions interpreter throughput: a 10-state Pass/Choice chain, a Map over 1,000 items,
// a Parallel of 10 branches and a Task with Retry, on one thread (inline executor, manual
// clock) and on a thread pool; plus the memory of an execution parked in a Wait state.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include "courier/function.h"
#include "courier/lambda.h"
#include "courier/state_machine.h"
#include "courier/step_functions.h"

namespace {

using courier::Environment;
using courier::ExecutionStatus;
using courier::Hub;
using courier::Json;
using courier::StateMachineOptions;
using courier::StateMachineType;

// P0 → C1 → P2 → C3 … → P8 → C9(end): five Pass and five Choice states.
std::string ChainDefinition() {
  std::string s = R"({"StartAt":"S0","States":{)";
  for (int i = 0; i < 10; ++i) {
    std::string name = "S" + std::to_string(i);
    std::string next = i == 9 ? "Done" : "S" + std::to_string(i + 1);
    if (i % 2 == 0) {
      s += "\"" + name + R"(":{"Type":"Pass","Next":")" + next + "\"},";
    } else {
      s += "\"" + name +
           R"(":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":)" +
           std::to_string(i) + R"(,"Next":")" + next + R"("}],"Default":")" + next + "\"},";
    }
  }
  s += R"("Done":{"Type":"Succeed"}}})";
  return s;
}

const char* kMap = R"({"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",
    "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}})";

std::string ParallelDefinition() {
  std::string s = R"({"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[)";
  for (int i = 0; i < 10; ++i) {
    s += std::string(i ? "," : "") + R"({"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}})";
  }
  return s + "]}}}";
}

const char* kRetry = R"({"StartAt":"T","States":{"T":{"Type":"Task",
    "Resource":"arn:aws:lambda:us-east-1:000000000000:function:flaky",
    "Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":1,"MaxAttempts":3}],"End":true}}})";

std::string MapInput(int n) {
  std::string s = R"({"items":[)";
  for (int i = 0; i < n; ++i)
    s += std::string(i ? "," : "") + R"({"id":)" + std::to_string(i) + "}";
  return s + "]}";
}

StateMachineOptions Options(bool express) {
  return {.type = express ? StateMachineType::kExpress : StateMachineType::kStandard};
}

// Runs `definition` with `input` once per iteration on the calling thread.
void RunInline(benchmark::State& state, const std::string& definition, const std::string& input,
               int64_t items_per_execution) {
  bool express = state.range(0) == 1;
  auto clock = std::make_shared<courier::ManualClock>();
  Hub hub(Environment::Deterministic(clock));
  int calls = 0;
  (void)Lambda(hub).RegisterFunction("flaky", [&calls](const Json& in) -> absl::StatusOr<Json> {
    if (++calls % 2 == 1) return courier::FunctionError("Flaky", "odd call");
    return in;
  });
  int generation = 0;
  auto machine = *StepFunctions(hub).CreateStateMachine("bench", definition, Options(express));
  int64_t n = 0;
  for (auto _ : state) {
    auto exec = machine->StartExecution({.input = input});
    if (!(*exec)->done()) clock->Advance(absl::Seconds(1));  // retry back-off
    if ((*exec)->status() != ExecutionStatus::kSucceeded) {
      state.SkipWithError("execution did not succeed");
      break;
    }
    // Standard executions (and their histories) are kept: start a fresh machine now and then.
    if (!express && ++n % std::max<int64_t>(1, 20000 / items_per_execution) == 0) {
      state.PauseTiming();
      (void)StepFunctions(hub).DeleteStateMachine(machine->name());
      machine = *StepFunctions(hub).CreateStateMachine("bench" + std::to_string(++generation),
                                                       definition);
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations() * items_per_execution);
  state.SetLabel(express ? "express" : "standard+history");
}

void BM_Chain10(benchmark::State& state) { RunInline(state, ChainDefinition(), R"({"n":5})", 1); }
void BM_Map1000(benchmark::State& state) { RunInline(state, kMap, MapInput(1000), 1000); }
void BM_Parallel10(benchmark::State& state) { RunInline(state, ParallelDefinition(), "{}", 1); }
void BM_TaskRetry(benchmark::State& state) { RunInline(state, kRetry, R"({"a":1})", 1); }

BENCHMARK(BM_Chain10)->Arg(0)->Arg(1);
BENCHMARK(BM_Map1000)->Arg(0)->Arg(1);
BENCHMARK(BM_Parallel10)->Arg(0)->Arg(1);
BENCHMARK(BM_TaskRetry)->Arg(0)->Arg(1);

// Many executions at once on a pool of 2 threads; each iteration runs a batch of 1,000.
void BM_Chain10Pool(benchmark::State& state) {
  Hub hub(Environment{.clock = std::make_shared<courier::ManualClock>(),
                      .executor = std::make_shared<courier::ThreadPoolExecutor>(2)});
  auto machine = *StepFunctions(hub).CreateStateMachine("pool", ChainDefinition(), Options(true));
  for (auto _ : state) {
    std::vector<std::shared_ptr<courier::Execution>> batch;
    batch.reserve(1000);
    for (int i = 0; i < 1000; ++i)
      batch.push_back(*machine->StartExecution({.input = R"({"n":5})"}));
    for (auto& e : batch) e->Await();
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetLabel("express, 2 threads");
}
BENCHMARK(BM_Chain10Pool)->UseRealTime();

// Bytes of heap per Standard execution parked in a Wait state (history included).
void BM_IdleWaitMemory(benchmark::State& state) {
  for (auto _ : state) {
    auto clock = std::make_shared<courier::ManualClock>();
    auto hub = std::make_unique<Hub>(Environment::Deterministic(clock));
    auto machine = *StepFunctions(*hub).CreateStateMachine(
        "idle", R"({"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"End":true}}})");
    constexpr int kCount = 100000;
    std::vector<std::shared_ptr<courier::Execution>> execs;
    execs.reserve(kCount);
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < kCount; ++i)
      execs.push_back(*machine->StartExecution({.input = R"({"order":12345})"}));
    struct mallinfo2 after = mallinfo2();
    state.counters["bytes_per_idle_execution"] =
        static_cast<double>(after.uordblks - before.uordblks) / kCount;
  }
}
BENCHMARK(BM_IdleWaitMemory)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
