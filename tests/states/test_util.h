// Helpers shared by the states tests.
#ifndef COURIER_TESTS_STATES_TEST_UTIL_H_
#define COURIER_TESTS_STATES_TEST_UTIL_H_

#include <catch2/catch.hpp>

#include "courier/state_machine.h"
#include "courier/status.h"
#include "courier/step_functions.h"
#include "courier/testing/simulation.h"
#include "states/json_util.h"

namespace courier::states_internal::test {

inline Json J(std::string_view text) {
  auto v = ParseJson(text);
  REQUIRE(v.ok());
  return *v;
}

struct Fixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};

  std::shared_ptr<StateMachine> Machine(std::string_view definition, std::string name = "m",
                                        StateMachineOptions options = {}) {
    auto m = StepFunctions(hub).CreateStateMachine(name, definition, options);
    INFO(m.status().ToString());
    REQUIRE(m.ok());
    return *m;
  }
  // Runs one execution to its end (virtual time) and describes it.
  ExecutionDescription Run(std::string_view definition, std::string_view input = "{}") {
    auto m = Machine(definition, "m" + std::to_string(counter_++));
    auto e = m->StartExecution({.input = std::string(input)});
    REQUIRE(e.ok());
    last = *e;
    sim.RunUntilIdle();
    return last->Describe();
  }
  std::string Lambda(std::string_view name) {
    return hub.Arn("lambda", std::string("function:") + std::string(name));
  }
  std::vector<std::string> EventTypes() {
    std::vector<std::string> out;
    for (const auto& e : last->History()) out.push_back(e.type);
    return out;
  }
  std::shared_ptr<Execution> last;

 private:
  int counter_ = 0;
};

inline std::string Text(const std::optional<Json>& v) { return v ? ToJsonText(*v) : "<none>"; }

}  // namespace courier::states_internal::test

#endif  // COURIER_TESTS_STATES_TEST_UTIL_H_
