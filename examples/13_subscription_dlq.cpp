// A subscriber that keeps failing: SNS retries on the simulated clock (3 at once, 2 at 1 s, 10
// backing off to 20 s, then every 20 s for 23 days), then the message reaches the
// subscription's dead-letter queue. Nothing is lost silently; the counters say what happened.
#include <cassert>
#include <cstdio>
#include <vector>

#include "courier/hub.h"
#include "courier/json.h"
#include "courier/lambda.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/testing/simulation.h"
#include "courier/topic.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto topic = courier::Sns(hub).CreateTopic("alerts").value();
  auto dlq = courier::Sqs(hub).CreateQueue("alerts-dlq").value();
  // A function that is always down, and notes when it was tried.
  std::vector<absl::Time> tries;
  auto broken = courier::Lambda(hub)
                    .RegisterFunction("broken",
                                      [&](const courier::Json&) -> absl::StatusOr<courier::Json> {
                                        tries.push_back(hub.clock().Now());
                                        return absl::UnavailableError("ServiceUnavailable: down");
                                      })
                    .value();
  const std::string sub =
      courier::Sns(hub)
          .Subscribe(topic->arn(), "lambda", broken->arn(),
                     {{"RedrivePolicy", R"({"deadLetterTargetArn":")" + dlq->arn() + R"("})"}})
          .value();

  const absl::Time t0 = sim.Now();
  topic->Publish({.message = "disk full"}).value();
  sim.RunUntilIdle();  // 23 simulated days, at once

  for (size_t i = 0; i < 18; ++i) {
    std::printf("try %zu at +%.2f s\n", i + 1, absl::ToDoubleSeconds(tries[i] - t0));
  }
  std::printf("... try %zu at +%.2f days\n", tries.size(),
              absl::ToDoubleHours(tries.back() - t0) / 24);
  assert(tries.size() == 100015);

  auto dead = dlq->ReceiveMessage({}).value();
  assert(dead.size() == 1);
  // What the function would have received: the SNS event record.
  const courier::Json record = courier::ParseJson(dead[0].body).value();
  assert(record.at("Records").at(0).at("Sns").at("Message").as_string() == "disk full");
  auto m = courier::Sns(hub).SubscriptionMetrics(sub).value();
  assert(m["NumberOfNotificationsFailed"] == 1 && m["NumberOfNotificationsRedrivenToDlq"] == 1);
  return 0;
}
