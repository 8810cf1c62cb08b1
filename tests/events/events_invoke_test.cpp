// The EventBridge operation table against the scripts in tests/conformance/events (the line
// format and the runner: tests/invoke_script.h), and what a script cannot say: paging of many
// buses, and the table's refusal of requests that are not objects.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "courier/events.h"
#include "courier/hub.h"
#include "courier/service.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"
#include "invoke_script.h"

namespace courier {
namespace {

namespace fs = std::filesystem;
using testing_support::CheckScriptsUse;
using testing_support::RunScripts;

const fs::path kScripts = fs::path(COURIER_TEST_DATA_DIR) / "conformance" / "events";
const fs::path kSchedulerScripts = fs::path(COURIER_TEST_DATA_DIR) / "conformance" / "scheduler";
const fs::path kSchemaScripts = fs::path(COURIER_TEST_DATA_DIR) / "conformance" / "schemas";

TEST_CASE("The EventBridge operation table answers as AWS does (tests/conformance/events)",
          "[events][invoke]") {
  RunScripts(kScripts);
}

TEST_CASE("The scripts use every operation of the EventBridge table", "[events][invoke]") {
  const std::vector<std::string> operations = {"PutEvents",        "PutRule",
                                               "DescribeRule",     "ListRules",
                                               "EnableRule",       "DisableRule",
                                               "DeleteRule",       "ListRuleNamesByTarget",
                                               "TestEventPattern", "PutTargets",
                                               "RemoveTargets",    "ListTargetsByRule",
                                               "CreateEventBus",   "DeleteEventBus",
                                               "DescribeEventBus", "ListEventBuses",
                                               "UpdateEventBus",   "PutPermission",
                                               "RemovePermission", "TagResource",
                                               "UntagResource",    "ListTagsForResource",
                                               "CreateArchive",    "DescribeArchive",
                                               "ListArchives",     "UpdateArchive",
                                               "DeleteArchive",    "StartReplay",
                                               "DescribeReplay",   "ListReplays",
                                               "CancelReplay"};
  CheckScriptsUse(kScripts, operations);
}

TEST_CASE("The Scheduler operation table answers as AWS does (tests/conformance/scheduler)",
          "[events][scheduler][invoke]") {
  RunScripts(kSchedulerScripts);
}

TEST_CASE("The scripts use every operation of the Scheduler table", "[events][scheduler][invoke]") {
  CheckScriptsUse(
      kSchedulerScripts,
      {"CreateSchedule", "UpdateSchedule", "GetSchedule", "DeleteSchedule", "ListSchedules",
       "CreateScheduleGroup", "GetScheduleGroup", "DeleteScheduleGroup", "ListScheduleGroups",
       "TagResource", "UntagResource", "ListTagsForResource"});
}

TEST_CASE("The schema registry's table answers as AWS does (tests/conformance/schemas)",
          "[events][schemas][invoke]") {
  RunScripts(kSchemaScripts);
}

TEST_CASE("The scripts use every operation of the schema registry's table",
          "[events][schemas][invoke]") {
  CheckScriptsUse(kSchemaScripts,
                  {"CreateDiscoverer", "DescribeDiscoverer", "ListDiscoverers", "StartDiscoverer",
                   "StopDiscoverer", "DeleteDiscoverer", "CreateRegistry", "DeleteRegistry",
                   "ListRegistries", "CreateSchema", "UpdateSchema", "DescribeSchema",
                   "ListSchemas", "ListSchemaVersions", "ExportSchema", "DeleteSchema"});
}

TEST_CASE("ListEventBuses pages with Limit and NextToken", "[events][invoke]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  for (int i = 0; i < 25; ++i) REQUIRE(Events(hub).CreateEventBus(fmt::format("b{:02}", i)).ok());
  std::vector<std::string> seen;
  JsonObject request{{"Limit", 10}};
  for (int page = 0; page < 10; ++page) {
    auto r = Invoke(hub, "events", "ListEventBuses", request);
    REQUIRE(r.ok());
    for (const Json& b : r->at("EventBuses").as_array()) {
      seen.emplace_back(b.at("Name").as_string());
    }
    const JsonObject& o = r->as_object();
    if (!o.contains("NextToken")) break;
    request["NextToken"] = o.at("NextToken");
  }
  REQUIRE(seen.size() == 26);  // default and 25 more, each once
  CHECK(seen.front() == "b00");
  CHECK(std::count(seen.begin(), seen.end(), "default") == 1);
}

TEST_CASE("A request that is not an object is a SerializationException", "[events][invoke]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  CHECK(ErrorName(Invoke(hub, "events", "ListRules", Json(5)).status()) ==
        "SerializationException");
  CHECK(Invoke(hub, "events", "ListRules", Json()).ok());
}

}  // namespace
}  // namespace courier
