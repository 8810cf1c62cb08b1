// Environment: the clock, executor and storage every component shares, plus region and account.
//
// Example:
//   courier::Hub production;                                   // Environment::Default()
//   courier::testing::Simulation sim;
//   courier::Hub test_hub(sim.environment());                  // manual clock and executor
#ifndef COURIER_ENVIRONMENT_H_
#define COURIER_ENVIRONMENT_H_

#include <memory>
#include <string>

#include "courier/clock.h"
#include "courier/executor.h"
#include "courier/storage.h"

namespace courier {

struct Environment {
  std::shared_ptr<Clock> clock;
  std::shared_ptr<Executor> executor;
  std::shared_ptr<Storage> storage;
  std::string region = "us-east-1";
  std::string account = "000000000000";

  // System clock, a thread pool of the machine's size, memory storage.
  static Environment Default();
  // A ManualClock (returned through `clock`), an inline executor, memory storage.
  static Environment Deterministic(std::shared_ptr<ManualClock> clock = nullptr);
};

}  // namespace courier

#endif  // COURIER_ENVIRONMENT_H_
