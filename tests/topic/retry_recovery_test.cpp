// A delivery to a subscription that failed and waits for a retry survives a restart: the hub
// rebuilt from the first one's records (Hub::Recover) tries it at the time it was due, once,
// with what the subscriber was to receive; one that ended before the copy is not made again.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "courier/hub.h"
#include "courier/sns.h"
#include "courier/storage.h"
#include "courier/topic.h"
#include "flaky_sink.h"
#include "recording_hub.h"

namespace courier {
namespace {

using Side = testing_support::RecordingSide;

using testing_support::AddFlaky;

// A standard topic whose raw SQS subscription goes to the flaky sink, and one message on it.
void PublishToFlaky(Hub& hub, const std::string& arn) {
  SnsService& sns = Sns(hub);
  auto topic = sns.CreateTopic("orders", {}, {}).value();
  REQUIRE(sns.Subscribe(topic->arn(), "sqs", arn, {{"RawMessageDelivery", "true"}}).ok());
  REQUIRE(topic
              ->Publish({.message = "order 1",
                         .subject = std::nullopt,
                         .message_structure = std::nullopt,
                         .attributes = {{"kind", MessageAttribute::String("big")}},
                         .message_group_id = std::nullopt,
                         .message_deduplication_id = std::nullopt})
              .ok());
}

TEST_CASE("A subscription's retry waiting when the hub stops is made after the recovery, once",
          "[topic][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  auto flaky = AddFlaky(first.hub, 1000);
  PublishToFlaky(first.hub, flaky->arn());
  const size_t tried = flaky->tries.size();
  REQUIRE(tried >= 1);
  auto copy = log->Copy();  // the hub stops here, its retry waiting
  first.sim.RunFor(absl::Minutes(1));
  REQUIRE(flaky->tries.size() > tried);
  const absl::Time due = flaky->tries[tried];
  REQUIRE(due > first.sim.Now() - absl::Minutes(1));

  Side second(copy, flaky->tries[tried - 1]);
  auto back = AddFlaky(second.hub, 0);  // the queue works again
  REQUIRE(second.hub.Recover().ok());
  second.sim.RunFor(due - second.sim.Now() - absl::Milliseconds(1));
  CHECK(back->tries.empty());
  second.sim.RunFor(absl::Milliseconds(1));
  REQUIRE(back->received.size() == 1);
  CHECK(back->tries[0] == due);
  CHECK(back->received[0].body == "order 1");
  CHECK(back->received[0].attributes.at("kind").string_value == "big");
  second.sim.RunFor(absl::Hours(1));
  CHECK(back->received.size() == 1);

  // Delivered, it is not delivered again by a hub recovered from the second one's records.
  Side third(copy->Copy(), second.sim.Now());
  auto later = AddFlaky(third.hub, 0);
  REQUIRE(third.hub.Recover().ok());
  third.sim.RunFor(absl::Hours(1));
  CHECK(later->tries.empty());
}

TEST_CASE("A subscription's retry that ended before the hub stopped is not made again",
          "[topic][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  auto flaky = AddFlaky(first.hub, 1);
  PublishToFlaky(first.hub, flaky->arn());
  first.sim.RunFor(absl::Minutes(1));
  REQUIRE(flaky->received.size() == 1);

  Side second(log->Copy(), first.sim.Now());
  auto back = AddFlaky(second.hub, 0);
  REQUIRE(second.hub.Recover().ok());
  second.sim.RunFor(absl::Hours(1));
  CHECK(back->tries.empty());
}

TEST_CASE("A retry to a subscription removed before the restart is not made", "[topic][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  auto flaky = AddFlaky(first.hub, 1000);
  PublishToFlaky(first.hub, flaky->arn());
  SnsService& sns = Sns(first.hub);
  auto topic = sns.GetTopic("orders").value();
  const std::vector<SubscriptionSummary> subscriptions =
      sns.ListSubscriptionsByTopic(topic->arn()).value();
  REQUIRE(subscriptions.size() == 1);
  REQUIRE(sns.Unsubscribe(subscriptions[0].subscription_arn).ok());

  Side second(log->Copy(), first.sim.Now());
  auto back = AddFlaky(second.hub, 0);
  REQUIRE(second.hub.Recover().ok());
  second.sim.RunFor(absl::Hours(1));
  CHECK(back->tries.empty());
  // Counted as failed, as in memory, by the topic it was to come from.
  SnsMetrics m = Sns(second.hub).GetTopic("orders").value()->Metrics();
  CHECK(m.at("NumberOfNotificationsFailed") == 1);
}

}  // namespace
}  // namespace courier
