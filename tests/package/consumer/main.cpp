// A project outside courier's tree that finds the installed package and uses it.
#include <courier/courier.h>

#include <cstdio>

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto queue = Sqs(hub).CreateQueue("consumer");
  if (!queue.ok()) return 1;
  if (!(*queue)->SendMessage({.body = "hi", .delay = absl::Seconds(5)}).ok()) return 2;
  auto got = (*queue)->ReceiveMessage({.wait_time = absl::Seconds(20)});
  if (!got.ok() || got->size() != 1 || got->front().body != "hi") return 3;
  if (sim.Now() - courier::ManualClock::DefaultStart() != absl::Seconds(5)) return 4;
  auto pattern = courier::EventPattern::Compile(R"({"source":["shop"]})");
  if (!pattern.ok() || !pattern->Matches(R"({"source":"shop"})")) return 5;
  std::puts("consumer: found and used the installed courier package");
  return 0;
}
