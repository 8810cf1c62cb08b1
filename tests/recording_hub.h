// testing_support::RecordingSide: one hub on its own manual clock whose services record into a
// given Storage, for tests that rebuild a second hub from the first one's records
// (Hub::Recover) and compare the two.
#ifndef COURIER_TESTS_RECORDING_HUB_H_
#define COURIER_TESTS_RECORDING_HUB_H_

#include <memory>

#include "courier/environment.h"
#include "courier/hub.h"
#include "courier/storage.h"
#include "courier/testing/simulation.h"

namespace courier::testing_support {

struct RecordingSide {
  explicit RecordingSide(std::shared_ptr<Storage> log,
                         absl::Time start = ManualClock::DefaultStart())
      : sim(start), hub(EnvironmentOf(sim, std::move(log))) {}
  static Environment EnvironmentOf(testing::Simulation& sim, std::shared_ptr<Storage> log) {
    Environment e = sim.environment();
    e.storage = std::move(log);
    return e;
  }
  testing::Simulation sim;
  Hub hub;
};

}  // namespace courier::testing_support

#endif  // COURIER_TESTS_RECORDING_HUB_H_
