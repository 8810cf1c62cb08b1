// The Step Functions operation table against the scripts in tests/conformance/states: each
// *.jsonl file is a `courier invoke` script (one hub, a manual clock) whose lines also say what
// AWS answers. The line format and the runner: tests/invoke_script.h. The scripts reach SQS too
// (a callback task sends its token to a queue), so this binary links courier_queue.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "invoke_script.h"
#include "states/states_operations.h"

namespace courier {
namespace {

namespace fs = std::filesystem;
using states_internal::StepFunctionsOperationNames;
using testing_support::RunScript;
using testing_support::Scripts;
using testing_support::ScriptsUse;

const fs::path kScripts = fs::path(COURIER_TEST_DATA_DIR) / "conformance" / "states";

TEST_CASE("The Step Functions operation table answers as AWS does (tests/conformance/states)",
          "[states][invoke]") {
  const std::vector<fs::path> scripts = Scripts(kScripts);
  REQUIRE(!scripts.empty());
  for (const fs::path& script : scripts) {
    DYNAMIC_SECTION(script.filename().string()) { CHECK(RunScript(script) > 0); }
  }
}

TEST_CASE("The scripts use every operation of the Step Functions table", "[states][invoke]") {
  // AWSStepFunctions.<operation>: those the typed API supports. No activities, versions,
  // aliases, tags, map runs, redrives or TestState.
  const std::vector<std::string_view> expected = {
      "CreateStateMachine",   "DeleteStateMachine",  "DescribeExecution",
      "DescribeStateMachine", "GetExecutionHistory", "ListExecutions",
      "ListStateMachines",    "SendTaskFailure",     "SendTaskHeartbeat",
      "SendTaskSuccess",      "StartExecution",      "StartSyncExecution",
      "StopExecution",        "UpdateStateMachine",  "ValidateStateMachineDefinition"};
  CHECK(StepFunctionsOperationNames() == expected);
  for (std::string_view op : StepFunctionsOperationNames()) {
    INFO(op);
    CHECK(ScriptsUse(kScripts, std::string(op)));
  }
}

TEST_CASE("An operation Step Functions does not have is UnknownOperationException",
          "[states][invoke]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto r = Invoke(hub, "states", "CreateActivity", JsonObject{{"name", "a"}});
  CHECK(ErrorName(r.status()) == "UnknownOperationException");
  r = Invoke(hub, "states", "ListStateMachines", Json(JsonArray()));
  CHECK(ErrorName(r.status()) == "SerializationException");
  r = Invoke(hub, "states", "ListStateMachines", Json(nullptr));
  REQUIRE(r.ok());
  CHECK(r->at("stateMachines").as_array().empty());
}

}  // namespace
}  // namespace courier
