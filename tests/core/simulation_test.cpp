#include "courier/testing/simulation.h"

#include <catch2/catch.hpp>

namespace courier::testing {
namespace {

TEST_CASE("Simulation runs work and timers in virtual time", "[simulation]") {
  Simulation sim;
  absl::Time start = sim.Now();
  std::vector<std::string> log;
  sim.environment().executor->Submit([&] {
    log.push_back("task");
    sim.clock().ScheduleAfter(absl::Hours(24 * 365), [&] {
      sim.executor().Submit([&] { log.push_back("after a year"); });
    });
  });
  sim.RunUntilIdle();
  REQUIRE(log == std::vector<std::string>{"task", "after a year"});
  REQUIRE(sim.Now() - start == absl::Hours(24 * 365));
}

TEST_CASE("Simulation RunFor stops at exactly now + d", "[simulation]") {
  Simulation sim;
  absl::Time start = sim.Now();
  int fired = 0;
  sim.clock().ScheduleAfter(absl::Seconds(5), [&] { ++fired; });
  sim.clock().ScheduleAfter(absl::Seconds(10), [&] { ++fired; });
  sim.clock().ScheduleAfter(absl::Seconds(11), [&] { ++fired; });
  sim.RunFor(absl::Seconds(10));
  REQUIRE(fired == 2);
  REQUIRE(sim.Now() - start == absl::Seconds(10));
}

TEST_CASE("A blocking wait inside a Simulation advances virtual time instead of hanging",
          "[simulation]") {
  Simulation sim;
  absl::Time start = sim.Now();
  WakeSignal signal;
  bool ready = false;
  sim.clock().ScheduleAfter(absl::Seconds(5), [&] { ready = true; });
  REQUIRE(sim.clock().WaitUntil(start + absl::Seconds(20), signal, [&] { return ready; }));
  REQUIRE(sim.Now() - start == absl::Seconds(5));
  // Nothing pending: the wait ends empty at its deadline.
  REQUIRE_FALSE(sim.clock().WaitUntil(sim.Now() + absl::Seconds(20), signal, [] { return false; }));
  REQUIRE(sim.Now() - start == absl::Seconds(25));
}

TEST_CASE("A blocking wait inside a Simulation runs queued work first", "[simulation]") {
  Simulation sim;
  WakeSignal signal;
  bool ready = false;
  sim.executor().Submit([&] { ready = true; });
  REQUIRE(sim.clock().WaitUntil(sim.Now() + absl::Seconds(20), signal, [&] { return ready; }));
  REQUIRE(sim.Now() == ManualClock::DefaultStart());
}

}  // namespace
}  // namespace courier::testing
