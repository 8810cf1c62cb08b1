#include "courier/testing/simulation.h"

namespace courier::testing {

Simulation::Simulation(absl::Time start)
    : clock_(std::make_shared<ManualClock>(start)),
      executor_(std::make_shared<ManualExecutor>()),
      environment_{
          .clock = clock_, .executor = executor_, .storage = Environment::DefaultStorage()} {
  // A blocking call inside the simulation runs the other ready work, then moves virtual time.
  clock_->SetAutoAdvance([executor = executor_.get()] { return executor->RunUntilIdle() > 0; });
}

size_t Simulation::RunUntilIdle(absl::Duration limit) {
  absl::Time end = limit == absl::InfiniteDuration() ? absl::InfiniteFuture() : Now() + limit;
  size_t ran = executor_->RunUntilIdle();
  for (;;) {
    std::optional<absl::Time> next = clock_->NextTimer();
    if (!next || *next > end) break;
    ran += clock_->AdvanceTo(*next);
    ran += executor_->RunUntilIdle();
  }
  return ran;
}

size_t Simulation::RunFor(absl::Duration d) {
  absl::Time end = Now() + d;
  size_t ran = RunUntilIdle(d);
  clock_->AdvanceTo(end);
  return ran + executor_->RunUntilIdle();
}

}  // namespace courier::testing
