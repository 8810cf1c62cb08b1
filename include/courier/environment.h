// Environment: the clock, executor, storage and key provider every component shares, plus region
// and account.
//
// Example:
//   courier::Hub production;                                   // Environment::Default()
//   courier::testing::Simulation sim;
//   courier::Hub test_hub(sim.environment());                  // manual clock and executor
#ifndef COURIER_ENVIRONMENT_H_
#define COURIER_ENVIRONMENT_H_

#include <functional>
#include <memory>
#include <string>

#include "courier/clock.h"
#include "courier/executor.h"
#include "courier/key_provider.h"
#include "courier/storage.h"

namespace courier {

struct Environment {
  std::shared_ptr<Clock> clock;
  std::shared_ptr<Executor> executor;
  std::shared_ptr<Storage> storage;
  // The master keys of encrypted queues and topics (courier/key_provider.h); nullptr: only the
  // AWS managed keys (alias/aws/sqs, alias/aws/sns).
  std::shared_ptr<KeyProvider> keys;
  std::string region = "us-east-1";
  std::string account = "000000000000";

  // System clock, a thread pool of the machine's size, the default storage.
  static Environment Default();
  // A ManualClock (returned through `clock`), an inline executor, the default storage.
  static Environment Deterministic(std::shared_ptr<ManualClock> clock = nullptr);

  // The storage of Default(), Deterministic(), testing::Simulation and a Hub given none: a new
  // MemoryStorage, unless a test suite has set a factory to run all of its tests on another
  // policy (tests/sqlite_suite.cpp). Applications choose theirs by setting `storage`. Set the
  // factory before any thread uses it.
  static std::shared_ptr<Storage> DefaultStorage();
  static void SetDefaultStorageFactory(std::function<std::shared_ptr<Storage>()> factory);
};

}  // namespace courier

#endif  // COURIER_ENVIRONMENT_H_
