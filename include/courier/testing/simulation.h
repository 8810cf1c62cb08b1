// testing::Simulation: a ManualClock and a ManualExecutor stepped together, as in discrete-event
// simulation. A workflow with a 1-year Wait, or a long poll of 20 seconds, finishes at once.
//
// Example:
//   courier::testing::Simulation sim;
//   courier::Hub hub(sim.environment());
//   auto queue = courier::Sqs(hub).CreateQueue("orders").value();
//   queue->SendMessage({.body = "later", .delay = absl::Seconds(5)});
//   auto got = queue->ReceiveMessage({.wait_time = absl::Seconds(20)});  // returns at t+5s
#ifndef COURIER_TESTING_SIMULATION_H_
#define COURIER_TESTING_SIMULATION_H_

#include <memory>

#include "courier/clock.h"
#include "courier/environment.h"
#include "courier/executor.h"

namespace courier::testing {

class Simulation {
 public:
  explicit Simulation(absl::Time start = ManualClock::DefaultStart());
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // An environment over this simulation's clock and executor (and memory storage).
  const Environment& environment() const { return environment_; }
  ManualClock& clock() { return *clock_; }
  ManualExecutor& executor() { return *executor_; }
  absl::Time Now() const { return clock_->Now(); }

  // Runs all ready work, then jumps the clock to the next timer, and so on until nothing is
  // left or `limit` of virtual time has passed. Returns the number of tasks and timers run.
  size_t RunUntilIdle(absl::Duration limit = absl::InfiniteDuration());
  // Runs everything due within `d` from now; the clock ends at exactly now + d.
  size_t RunFor(absl::Duration d);

 private:
  std::shared_ptr<ManualClock> clock_;
  std::shared_ptr<ManualExecutor> executor_;
  Environment environment_;
};

}  // namespace courier::testing

#endif  // COURIER_TESTING_SIMULATION_H_
