// A project outside courier's tree that finds the installed package and uses it.
#include <courier/hub.h>
#include <courier/testing/simulation.h>

#include <cstdio>

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  bool fired = false;
  sim.clock().ScheduleAfter(absl::Hours(1), [&] { fired = true; });
  sim.RunUntilIdle();
  if (!fired || hub.Arn("sqs", "q") != "arn:aws:sqs:us-east-1:000000000000:q") return 1;
  std::puts("consumer: found and used the installed courier package");
  return 0;
}
