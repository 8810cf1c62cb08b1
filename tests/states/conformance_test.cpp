// Replays every case of tests/conformance/asl/ (copied from the shared corpus) as its README
// describes: where aws.json exists it is the target, else expected.json.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "courier/state_machine.h"
#include "courier/step_functions.h"
#include "courier/testing/case_handlers.h"
#include "courier/testing/simulation.h"
#include "states/json_util.h"

namespace fs = std::filesystem;
using courier::Json;

namespace {

std::optional<Json> ReadJson(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  auto v = courier::ParseJson(ss.str());
  REQUIRE(v.ok());
  return *v;
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void NormalizeUuids(Json& v) {
  static const std::regex kUuid(
      "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  if (v.is_string()) {
    v = Json(std::regex_replace(std::string(v.get_string()), kUuid, "<uuid-v4>"));
  } else if (v.is_array()) {
    for (auto& e : v.get_array()) NormalizeUuids(e);
  } else if (v.is_object()) {
    for (auto& [k, e] : v.get_object()) NormalizeUuids(e);
  }
}

struct Outcome {
  std::string status;
  std::optional<Json> output;
  std::optional<std::string> error, cause;
  std::vector<std::string> trace;
  std::map<std::string, int> retries;
};

Outcome Run(const fs::path& dir, std::shared_ptr<courier::testing::HandlerStats>* stats_out) {
  Json c = *ReadJson(dir / "case.json");
  std::string definition = ReadText(dir / "definition.json");
  std::string input = ReadText(dir / "input.json");
  std::string machine_name = "corpus", exec_name = "exec";
  if (const Json* ctx = c.as_object().if_contains("context"); ctx && ctx->is_object()) {
    machine_name = ctx->at("StateMachine").at("Name").as_string();
    exec_name = ctx->at("Execution").at("Name").as_string();
  }
  courier::testing::Simulation sim;
  courier::Environment env = sim.environment();
  env.account = "123456789012";
  courier::Hub hub(env);
  auto stats = courier::testing::RegisterCaseHandlers(hub, c.at("handlers"), definition);
  REQUIRE(stats.ok());
  *stats_out = *stats;
  auto machine = StepFunctions(hub).CreateStateMachine(machine_name, definition);
  INFO(machine.status().ToString());
  REQUIRE(machine.ok());
  auto exec = (*machine)->StartExecution({.name = exec_name, .input = input});
  REQUIRE(exec.ok());
  sim.RunUntilIdle();
  courier::ExecutionDescription d = (*exec)->Describe();
  Outcome o;
  o.status = std::string(courier::ExecutionStatusName(d.status));
  o.output = d.output;
  o.error = d.error;
  o.cause = d.cause;
  auto history = (*exec)->History();
  if (d.status == courier::ExecutionStatus::kTimedOut && !history.empty()) {
    const Json& det = history.back().details;
    if (auto* e = det.as_object().if_contains("error")) o.error = std::string(e->as_string());
  }
  // Top-level trace and retries: events nested in Map/Parallel states are skipped.
  int depth = 0;
  std::string current;
  std::map<std::string, int> scheduled;
  for (const auto& e : history) {
    const std::string& t = e.type;
    if (t == "MapStateStarted" || t == "ParallelStateStarted") ++depth;
    if (t == "MapStateSucceeded" || t == "MapStateFailed" || t == "MapStateAborted" ||
        t == "ParallelStateSucceeded" || t == "ParallelStateFailed" ||
        t == "ParallelStateAborted") {
      --depth;
    }
    if (depth == 0 && e.DetailsKey() == "stateEnteredEventDetails") {
      current = std::string(e.details.at("name").as_string());
      o.trace.push_back(current);
      scheduled[current] = 0;
    }
    if (depth == 0 && (t == "TaskScheduled" || t == "LambdaFunctionScheduled")) {
      if (scheduled[current]++ > 0) ++o.retries[current];
    }
  }
  return o;
}

}  // namespace

TEST_CASE("ASL conformance corpus", "[conformance]") {
  fs::path root = fs::path(COURIER_TEST_DATA_DIR) / "conformance" / "asl";
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.is_directory()) cases.push_back(entry.path());
  }
  std::sort(cases.begin(), cases.end());
  REQUIRE(cases.size() >= 40);
  for (const fs::path& dir : cases) {
    DYNAMIC_SECTION(dir.filename().string()) {
      Json c = *ReadJson(dir / "case.json");
      Json expected = *ReadJson(dir / "expected.json");
      std::optional<Json> aws = ReadJson(dir / "aws.json");
      const Json& target = aws ? *aws : expected;
      std::shared_ptr<courier::testing::HandlerStats> stats;
      Outcome o = Run(dir, &stats);
      INFO("case " << dir.filename().string() << ": status " << o.status << " error "
                   << o.error.value_or("-") << " cause " << o.cause.value_or("-") << " output "
                   << (o.output ? courier::ToJsonText(*o.output) : "-"));
      CHECK(o.status == std::string(target.at("status").as_string()));
      if (const Json* out = target.as_object().if_contains("output")) {
        REQUIRE(o.output.has_value());
        Json got = *o.output;
        Json want = *out;
        if (const Json* n = c.as_object().if_contains("normalize");
            n && n->is_string() && n->as_string() == "uuid") {
          NormalizeUuids(got);
          NormalizeUuids(want);
        }
        CHECK(courier::states_internal::JsonEquals(got, want));
      }
      if (const Json* e = target.as_object().if_contains("error")) {
        if (e->is_null()) {
          CHECK(!o.error.has_value());
        } else {
          CHECK(o.error.value_or("<none>") == std::string(e->as_string()));
          const Json* cause = target.as_object().if_contains("cause");
          if (!e->as_string().starts_with("States.") && cause) {
            if (cause->is_null()) {
              CHECK(!o.cause.has_value());
            } else {
              CHECK(o.cause.value_or("<none>") == std::string(cause->as_string()));
            }
          }
        }
      }
      // trace / retries / invocations come from the reference run: compare them when it agrees
      // with the target on the outcome.
      auto same = [&](const char* key) {
        const Json* a = expected.as_object().if_contains(key);
        const Json* b = target.as_object().if_contains(key);
        return (!a && !b) || (a && b && courier::states_internal::JsonEquals(*a, *b));
      };
      if (same("status") && same("output") && same("error")) {
        if (const Json* trace = expected.as_object().if_contains("trace")) {
          std::vector<std::string> want;
          for (const auto& t : trace->as_array()) want.emplace_back(t.as_string());
          CHECK(o.trace == want);
        }
        if (const Json* retries = expected.as_object().if_contains("retries")) {
          for (const auto& [state, n] : retries->as_object()) {
            CHECK(o.retries[std::string(state)] == n.as_int64());
          }
        }
        if (const Json* inv = expected.as_object().if_contains("invocations")) {
          for (const auto& [fn, n] : inv->as_object()) {
            CHECK(stats->Count(std::string(fn)) == n.as_int64());
          }
        }
      }
    }
  }
}
