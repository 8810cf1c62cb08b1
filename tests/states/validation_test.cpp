#include <catch2/catch.hpp>

#include "courier/asl_validation.h"
#include "courier/step_functions.h"
#include "test_util.h"

using courier::ValidateStateMachineDefinition;
using courier::ValidationResult;

namespace {
bool Has(const ValidationResult& r, std::string_view code, std::string_view location) {
  for (const auto& d : r.diagnostics) {
    if (d.code == code && d.location == location) return true;
  }
  return false;
}
std::string Dump(const ValidationResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += d.code + " " + d.location + ": " + d.message + "\n";
  return out;
}
}  // namespace

TEST_CASE("A valid definition validates OK", "[states][validation]") {
  auto r = ValidateStateMachineDefinition(
      R"j({"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}})j");
  INFO(Dump(r));
  CHECK(r.ok());
}

TEST_CASE("Structural errors are reported with their location", "[states][validation]") {
  struct Case {
    const char* definition;
    const char* code;
    const char* location;
  };
  const Case cases[] = {
      {R"j({"States":{"A":{"Type":"Pass","End":true}}})j", "SCHEMA_VALIDATION_FAILED", "/"},
      {R"j({"StartAt":"B","States":{"A":{"Type":"Pass","End":true}}})j",
       "MISSING_TRANSITION_TARGET", "/StartAt"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Bogus","End":true}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A/Type"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Pass"}}})j", "SCHEMA_VALIDATION_FAILED",
       "/States/A"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B","End":true},"B":{"Type":"Succeed"}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nope"}}})j",
       "MISSING_TRANSITION_TARGET", "/States/A/Next"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"B":{"Type":"Succeed"}}})j",
       "UNREACHABLE_STATE", "/States/B"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$$..[","End":true}}})j",
       "INVALID_JSON_PATH", "/States/A/InputPath"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}})j",
       "INVALID_JSON_PATH", "/States/A/ResultPath"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope(1)"},"End":true}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/x.$"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.ArrayLength(1, 2)"},"End":true}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/x.$"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","End":true,
           "Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}]}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/ErrorEquals"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","End":true,
           "Retry":[{"ErrorEquals":["X"],"BackoffRate":0.5}]}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/BackoffRate"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","End":true,
           "Catch":[{"ErrorEquals":["States.Bogus"],"Next":"A"}]}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A/Catch/0/ErrorEquals/0"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","End":true,
           "TimeoutSeconds":5,"HeartbeatSeconds":10}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A/HeartbeatSeconds"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","StringEquals":1,"Next":"B"}]},"B":{"Type":"Succeed"}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A/Choices/0/StringEquals"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","IsNull":true,"Next":"B"},"Next":"B"}]},"B":{"Type":"Succeed"}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A/Choices/0/Not/Next"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","Next":"A"}}}],"End":true}}})j",
       "MISSING_TRANSITION_TARGET", "/States/A/Branches/0/States/X/Next"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Pass","Output":{},"End":true}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A/Output"},
      {R"j({"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$","End":true}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A/InputPath"},
      {R"j({"StartAt":"A","States":{"A":{"Type":"Fail","Error":"E","ErrorPath":"$.e"}}})j",
       "SCHEMA_VALIDATION_FAILED", "/States/A"},
      {"not json", "INVALID_JSON_DESCRIPTION", "/"},
  };
  for (const Case& c : cases) {
    auto r = ValidateStateMachineDefinition(c.definition);
    INFO(c.definition << "\n" << Dump(r));
    CHECK(!r.ok());
    CHECK(Has(r, c.code, c.location));
  }
}

TEST_CASE("CreateStateMachine rejects an invalid definition with InvalidDefinition",
          "[states][validation]") {
  courier::states_internal::test::Fixture fx;
  auto m = StepFunctions(fx.hub).CreateStateMachine(
      "bad", R"j({"StartAt":"A","States":{"A":{"Type":"Pass"}}})j");
  REQUIRE(!m.ok());
  CHECK(courier::ErrorName(m.status()) == "InvalidDefinition");
  CHECK(std::string(m.status().message()).find("/States/A") != std::string::npos);
  CHECK(StepFunctions(fx.hub).FindStateMachine("bad") == nullptr);
}
